//! `regsim import`: a scenario from the files a user already has — a `.gitlab-ci.yml` job and,
//! optionally, a runner's config.toml. What the files say goes in; every value they cannot say
//! (GitLab's and the runner's versions, the projects' settings, the users' roles, the images'
//! registries' accounts) is a placeholder with a comment saying where GitLab's UI (or the host)
//! shows it; secrets are never copied.

pub mod config_toml;
pub mod gitlab_api;
pub mod gitlab_ci;

use config_toml::RunnerConfig;
use gitlab_ci::CiJob;
use regsim_model::world::JobTool;
use regsim_wire::reference::Reference;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What the command line adds to the files.
#[derive(Debug, Clone)]
pub struct Options {
    /// The job's project (`group/project`, as in its URL); `None`: a placeholder.
    pub project: Option<String>,
    pub gitlab_url: Option<String>,
    /// The container registry's host (`CI_REGISTRY`).
    pub registry: Option<String>,
    /// What saved answers of GitLab's API said (`--gitlab-api`).
    pub api: gitlab_api::ApiFacts,
}

/// Placeholders the written scenario uses: recognisable, and harmless if run as they are.
const SECRET: &str = "REPLACE-ME";
const HUB_PASSWORD: &str = "dckr_pat_REPLACE-ME";
const RUNNER_TOKEN: &str = "glrt-REPLACEME0000000000";
/// Versions known to every table, used until the user states theirs.
const GITLAB_VERSION: &str = "18.1.0";
const RUNNER_VERSION: &str = "18.1.0";
/// The kubernetes executor is modelled up to 17.11 (versions/executors/kubernetes.rs).
const KUBERNETES_RUNNER_VERSION: &str = "17.11.0";
const DOCKER_VERSION: &str = "24.0.9";
const KUBELET_VERSION: &str = "1.27.3";
const CONTAINERD_VERSION: &str = "1.6.20";

/// Where an image lives, as far as its reference says.
enum Home {
    DockerHub(String),
    /// GitLab's registry: (project path, `project/…/name:tag` as the project's `images:` lists it).
    GitLab(String, String),
    Other {
        host: String,
        image: String,
    },
    /// A reference with variables regsim cannot expand here.
    Unknown,
}

fn home(image: &str, project: &str, registry: &str) -> Home {
    let expanded = image
        .replace("${CI_REGISTRY_IMAGE}", &format!("{registry}/{project}"))
        .replace("$CI_REGISTRY_IMAGE", &format!("{registry}/{project}"))
        .replace("${CI_REGISTRY}", registry)
        .replace("$CI_REGISTRY", registry);
    if expanded.contains('$') {
        return Home::Unknown;
    }
    let Ok(r) = Reference::parse(&expanded) else {
        return Home::Unknown;
    };
    let tagged = format!("{}:{}", r.path, r.tag_or_latest());
    if r.domain == "docker.io" {
        return Home::DockerHub(format!("{}:{}", r.familiar_name(), r.tag_or_latest()));
    }
    if r.domain == registry {
        // GitLab's registry paths are a project's path, then at most two more segments; the
        // project is the longest prefix named on the command line, else all but the last.
        let owner = if r.path == project || r.path.starts_with(&format!("{project}/")) {
            project.to_string()
        } else {
            r.path
                .rsplit_once('/')
                .map(|(p, _)| p.to_string())
                .unwrap_or_else(|| r.path.clone())
        };
        return Home::GitLab(owner, tagged);
    }
    Home::Other {
        host: r.domain.clone(),
        image: tagged,
    }
}

fn q(s: &str) -> String {
    // JSON strings are YAML double-quoted scalars.
    serde_json::to_string(s).expect("a string serialises")
}

/// A YAML flow sequence of quoted strings: `["a", "b"]`.
fn flow(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|i| q(i)).collect::<Vec<_>>().join(", "))
}

/// A variable whose name says it holds a secret.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["PASSWORD", "PASS", "TOKEN", "SECRET", "KEY", "AUTH"]
        .iter()
        .any(|w| n.split('_').any(|part| part == *w) || n.ends_with(w))
}

/// Prefixes that make a value a secret whatever it is called: GitLab's tokens (its token overview,
/// "Token prefixes": glpat- … glffct-), runner registration tokens (GR1348941, gitlab
/// app/models/concerns/runners_token_prefixable.rb) and Docker Hub personal access tokens
/// (dckr_pat_, Docker Hub API reference).
const SECRET_PREFIXES: &[&str] = &[
    "glpat-",
    "gloas-",
    "gldt-",
    "glrt-",
    "glcbt-",
    "glptt-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "GR1348941",
    "dckr_pat_",
];

/// A word that is a token by its prefix (quotes around it ignored).
fn token_word(word: &str) -> bool {
    let w = word.trim_matches(|c| c == '"' || c == '\'');
    SECRET_PREFIXES.iter().any(|p| w.starts_with(p) && w.len() > p.len())
}

/// A literal (not `$VARIABLE`, not empty) password argument.
fn literal(word: &str) -> bool {
    let w = word.trim_matches(|c| c == '"' || c == '\'');
    !w.is_empty() && !w.starts_with('$')
}

/// The shell words of `line` as byte ranges: whitespace outside quotes separates them.
fn shell_words(line: &str) -> Vec<std::ops::Range<usize>> {
    let mut words = Vec::new();
    let (mut start, mut quote) = (None, None::<char>);
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    words.push(s..i);
                }
            }
            None => {
                start.get_or_insert(i);
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    if let Some(s) = start {
        words.push(s..line.len());
    }
    words
}

/// A script line with what it holds literally of a secret replaced: a token by its prefix, the
/// password of a `… login` command's `-p`/`--password` (also `--password=…` and `-pVALUE`), the
/// password in a URL's user info. `None` when nothing was replaced.
fn redact_script_line(line: &str) -> Option<String> {
    let words = shell_words(line);
    let mut replacements: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let (mut in_login, mut password_next) = (false, false);
    for range in words {
        let w = &line[range.clone()];
        if matches!(w, "|" | "||" | "&&" | ";") {
            (in_login, password_next) = (false, false);
            continue;
        }
        let after_flag = std::mem::take(&mut password_next);
        let replaced = if token_word(w) || (after_flag && literal(w)) {
            Some(SECRET.to_string())
        } else if in_login && w.strip_prefix("--password=").is_some_and(literal) {
            Some(format!("--password={SECRET}"))
        } else if in_login && w.strip_prefix("-p").is_some_and(|v| !v.starts_with('-') && literal(v)) {
            Some(format!("-p{SECRET}"))
        } else {
            url_password(w)
        };
        in_login |= w == "login";
        password_next = in_login && (w == "-p" || w == "--password");
        if let Some(r) = replaced {
            replacements.push((range, r));
        }
    }
    if replacements.is_empty() {
        return None;
    }
    let mut out = line.to_string();
    for (range, r) in replacements.into_iter().rev() {
        out.replace_range(range, &r);
    }
    Some(out)
}

/// `scheme://user:password@host…` with the password replaced (a `$VARIABLE` password stays).
fn url_password(word: &str) -> Option<String> {
    let (scheme, rest) = word.split_once("://")?;
    let (userinfo, host) = rest.split_once('@')?;
    if userinfo.contains('/') {
        return None;
    }
    let (user, password) = userinfo.split_once(':')?;
    literal(password).then(|| format!("{scheme}://{user}:{SECRET}@{host}"))
}

/// DOCKER_AUTH_CONFIG with its registry keys and helper names kept (they decide matching) and
/// every credential replaced.
fn redact_auth_config(value: &str) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(value).ok()?;
    let placeholder = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("REPLACE_USER:{SECRET}"),
    );
    if let Some(auths) = v.get_mut("auths").and_then(|a| a.as_object_mut()) {
        for entry in auths.values_mut().filter_map(|e| e.as_object_mut()) {
            for (k, field) in entry.iter_mut() {
                *field = match k.as_str() {
                    "auth" => serde_json::Value::String(placeholder.clone()),
                    "username" => serde_json::Value::String("REPLACE_USER".into()),
                    _ => serde_json::Value::String(SECRET.into()),
                };
            }
        }
    }
    Some(v.to_string())
}

/// A variable's value as the scenario may hold it, and the comment to put beside it.
fn variable(name: &str, value: &str) -> (String, Option<&'static str>) {
    if name == "DOCKER_AUTH_CONFIG" {
        return match redact_auth_config(value) {
            Some(v) => (
                v,
                Some("credentials replaced: put the real base64 of USER:SECRET (keys kept as written)"),
            ),
            None => (
                SECRET.into(),
                Some("not JSON as written here: paste the variable's value (Settings > CI/CD > Variables)"),
            ),
        };
    }
    if secret_name(name) && !value.trim_start().starts_with('$') && !value.is_empty() {
        return (SECRET.into(), Some("a secret: the value was not copied"));
    }
    if value.split_whitespace().any(token_word) {
        return (SECRET.into(), Some("a token by its prefix: the value was not copied"));
    }
    (value.to_string(), None)
}

/// The scenario, as YAML with comments.
pub fn write(ci: &CiJob, runner: Option<&RunnerConfig>, o: &Options, sources: &str) -> String {
    let project = o.project.clone().unwrap_or_else(|| "group/project".into());
    // What the API answers say of the instance: the job's project's first, then any project's.
    let from_api = |f: fn(&gitlab_api::ProjectFacts) -> Option<String>| {
        o.api
            .projects
            .get(&project)
            .and_then(f)
            .or_else(|| o.api.projects.values().find_map(f))
    };
    let api_gitlab_url = from_api(|p| p.gitlab_url.clone());
    let api_registry = from_api(|p| p.registry_host.clone());
    let gitlab_url = o
        .gitlab_url
        .clone()
        .or(api_gitlab_url.clone())
        .unwrap_or_else(|| "https://gitlab.example.com".into());
    let registry = o
        .registry
        .clone()
        .or(api_registry.clone())
        .unwrap_or_else(|| "registry.example.com".into());
    let gitlab_version = o
        .api
        .version
        .as_deref()
        .and_then(|v| gitlab_api::release(v).map(|r| (r, v)));
    let executor = runner.map(|r| r.executor.clone()).unwrap_or_else(|| "docker".into());
    let mut y = String::new();
    let w = &mut y;
    let _ = writeln!(w, "# Written by `regsim import` from {sources}.");
    let _ = writeln!(
        w,
        "# Lines marked UNKNOWN hold placeholders: replace them with your values (where to look is"
    );
    let _ = writeln!(w, "# said beside each), then `regsim run` this file.");
    for inc in &ci.includes {
        let _ = writeln!(w, "# include (not fetched; its jobs and defaults are not read): {inc}");
    }
    if !ci.other_jobs.is_empty() {
        let _ = writeln!(w, "# other jobs in the file: {}", ci.other_jobs.join(", "));
    }
    let _ = writeln!(w, "description: >");
    let _ = writeln!(
        w,
        "  Job `{}` of {project}, imported from its .gitlab-ci.yml{}.",
        ci.name,
        if runner.is_some() {
            " and the runner's config.toml"
        } else {
            ""
        }
    );
    let _ = writeln!(
        w,
        "clock: 2025-07-10T09:00:00Z   # UNKNOWN: when the job ran (the job page's date)"
    );
    let _ = writeln!(w, "gitlab:");
    match &gitlab_version {
        Some((r, as_given)) => {
            let _ = writeln!(w, "  version: {r}   # GET /version: {as_given}");
        }
        None => {
            let _ = writeln!(
                w,
                "  version: {GITLAB_VERSION}   # UNKNOWN: Help (?) > About GitLab, or /help"
            );
        }
    }
    let _ = writeln!(
        w,
        "  external_url: {}{}",
        q(&gitlab_url),
        match (&o.gitlab_url, &api_gitlab_url) {
            (Some(_), _) => "",
            (None, Some(_)) => "   # the project's web_url (GitLab's API)",
            (None, None) => "   # UNKNOWN: your GitLab's address",
        }
    );
    let _ = writeln!(
        w,
        "  registry: {}{}",
        q(&registry),
        match (&o.registry, &api_registry) {
            (Some(_), _) => "",
            (None, Some(_)) => "   # the project's container_registry_image_prefix (GitLab's API)",
            (None, None) => "   # UNKNOWN: CI_REGISTRY (Deploy > Container Registry shows it)",
        }
    );

    // Where the job's images live.
    let mut images: Vec<(String, bool)> = Vec::new();
    if let Some(i) = &ci.image {
        images.push((i.clone(), false));
    }
    for (s, _) in &ci.services {
        images.push((s.clone(), true));
    }
    let mut hub: Vec<String> = Vec::new();
    let mut gitlab_images: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut others: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unknown: Vec<String> = Vec::new();
    for (i, _) in &images {
        match home(i, &project, &registry) {
            Home::DockerHub(n) => hub.push(n),
            Home::GitLab(p, n) => gitlab_images.entry(p).or_default().push(n),
            Home::Other { host, image } => others.entry(host).or_default().push(image),
            Home::Unknown => unknown.push(i.clone()),
        }
    }
    gitlab_images.entry(project.clone()).or_default();
    // Projects the API answers describe belong in the scenario too (an image's project, say).
    for p in o.api.projects.keys() {
        gitlab_images.entry(p.clone()).or_default();
    }
    let instance = gitlab_version
        .as_ref()
        .map(|(r, _)| r.clone())
        .unwrap_or_else(|| GITLAB_VERSION.to_string());

    // Groups on an allowlist must be groups of the scenario.
    let allowlisted_groups: std::collections::BTreeSet<&String> = o
        .api
        .projects
        .values()
        .flat_map(|f| f.allowlist_groups.iter().flatten())
        .collect();
    if !allowlisted_groups.is_empty() {
        let _ = writeln!(w, "groups:");
        for g in allowlisted_groups {
            let _ = writeln!(
                w,
                "  - path: {}   # on a job token allowlist (GitLab's API); UNKNOWN: its visibility and members",
                q(g)
            );
        }
    }
    let _ = writeln!(w, "projects:");
    for (p, imgs) in &gitlab_images {
        let _ = writeln!(
            w,
            "  - path: {}{}",
            q(p),
            if p == &project && o.project.is_none() {
                "   # UNKNOWN: the project's path, as in its URL"
            } else {
                ""
            }
        );
        let facts = o.api.projects.get(p);
        match facts.and_then(|f| f.visibility.as_deref()) {
            Some(v) => {
                let _ = writeln!(w, "    visibility: {v}   # GitLab's API");
            }
            None => {
                let _ = writeln!(
                    w,
                    "    visibility: private   # UNKNOWN: Settings > General > Visibility"
                );
            }
        }
        match facts.and_then(|f| f.created_on.as_deref()) {
            Some(day) => {
                let (release, note) = created_in(day, &instance);
                let _ = writeln!(w, "    created_in: {release}   # {note}");
            }
            None => {
                let _ = writeln!(
                    w,
                    "    created_in: 16.0.0   # UNKNOWN: the GitLab release the project was created under (decides the job token allowlist's default)"
                );
            }
        }
        if let Some(level) = facts.and_then(|f| f.container_registry.as_deref()) {
            let _ = writeln!(
                w,
                "    container_registry: {level}   # container_registry_access_level (GitLab's API)"
            );
        }
        if let Some(f) = facts.filter(|f| f.inbound_enabled.is_some()) {
            let enabled = f.inbound_enabled.unwrap_or_default();
            let projects = f.allowlist_projects.clone().unwrap_or_default();
            let groups = f.allowlist_groups.clone().unwrap_or_default();
            let _ = writeln!(
                w,
                "    job_token_allowlist: {{ enabled: {enabled}, projects: {}, groups: {} }}   # job_token_scope{}",
                flow(&projects),
                flow(&groups),
                match (&f.allowlist_projects, &f.allowlist_groups) {
                    (Some(_), Some(_)) => " and its allowlists (GitLab's API)",
                    (Some(_), None) => " and its project allowlist (GitLab's API); UNKNOWN: its groups_allowlist",
                    (None, Some(_)) => " and its groups allowlist (GitLab's API); UNKNOWN: its project allowlist",
                    (None, None) => " (GitLab's API); UNKNOWN: the allowlists (CI/CD > Job token permissions)",
                }
            );
        }
        let api_members = facts.and_then(|f| f.members.as_ref());
        if p == &project || api_members.is_some() {
            let _ = writeln!(w, "    members:");
            if p == &project {
                let _ = writeln!(
                    w,
                    "      ci-user: developer   # UNKNOWN: who ran the pipeline and their role (Manage > Members)"
                );
            }
            for (user, role) in api_members.into_iter().flatten() {
                let _ = writeln!(w, "      {}: {role}   # members/all (GitLab's API)", q(user));
            }
            for other in facts.map(|f| f.other_members.as_slice()).unwrap_or_default() {
                let _ = writeln!(w, "      # not modelled: {other}");
            }
        }
        if !imgs.is_empty() {
            let _ = writeln!(
                w,
                "    images: {}   # the tags the registry holds (Deploy > Container Registry)",
                flow(imgs)
            );
        }
        if p != &project && !facts.is_some_and(|f| f.inbound_enabled.is_some() && f.members.is_some()) {
            let _ = writeln!(
                w,
                "    # UNKNOWN: its CI/CD > Job token permissions (allowlist) and members, if the job's project should reach it"
            );
        }
    }
    if !others.is_empty() {
        let _ = writeln!(w, "registries:");
        for (host, imgs) in &others {
            let _ = writeln!(w, "  - host: {}", q(host));
            let _ = writeln!(
                w,
                "    auth: basic   # UNKNOWN: how it authenticates (kind: harbor | nexus | quay | ecr …)"
            );
            let _ = writeln!(
                w,
                "    users: {{ REPLACE_USER: {} }}   # UNKNOWN: its accounts",
                q(SECRET)
            );
            let _ = writeln!(w, "    images: {}", flow(imgs));
        }
    }
    if !hub.is_empty() {
        let _ = writeln!(w, "docker_hub:");
        let _ = writeln!(w, "  images: {}", flow(&hub));
        let _ = writeln!(
            w,
            "  # accounts: {{ USER: {} }}   # if DOCKER_AUTH_CONFIG signs in to Docker Hub",
            q(HUB_PASSWORD)
        );
    }
    for u in &unknown {
        let _ = writeln!(
            w,
            "# UNKNOWN: where {u} lives (its variables are not expanded here): add it to a project's, a registry's or docker_hub's images"
        );
    }

    let _ = writeln!(w, "job:");
    let _ = writeln!(w, "  project: {}", q(&project));
    let _ = writeln!(w, "  user: ci-user   # UNKNOWN: who ran the pipeline");
    match (&ci.image, ci.image_pull_policy.is_empty()) {
        (Some(i), true) => {
            let _ = writeln!(w, "  image: {}", q(i));
        }
        (Some(i), false) => {
            let _ = writeln!(
                w,
                "  image: {{ name: {}, pull_policy: {} }}",
                q(i),
                flow(&ci.image_pull_policy)
            );
        }
        (None, _) => {
            let _ = writeln!(
                w,
                "  image: alpine:3.19   # UNKNOWN: the job sets no image; the runner's [runners.docker] image applies"
            );
        }
    }
    if !ci.services.is_empty() {
        let _ = writeln!(w, "  services:");
        for (n, alias) in &ci.services {
            match alias {
                Some(a) => {
                    let _ = writeln!(w, "    - {{ name: {}, alias: {} }}", q(n), q(a));
                }
                None => {
                    let _ = writeln!(w, "    - {}", q(n));
                }
            }
        }
    }
    if !ci.variables.is_empty() {
        let _ = writeln!(w, "  variables:");
        for (k, v) in &ci.variables {
            let (v, note) = variable(k, v);
            let _ = writeln!(
                w,
                "    {k}: {}{}",
                q(&v),
                note.map(|n| format!("   # {n}")).unwrap_or_default()
            );
        }
    }
    if !ci.script.is_empty() {
        let _ = writeln!(
            w,
            "  script:   # regsim runs the docker, podman, buildah and kaniko lines; others it names as not modelled"
        );
        for l in &ci.script {
            match redact_script_line(l) {
                Some(r) => {
                    let _ = writeln!(w, "    - {}   # a secret written in the line: not copied", q(&r));
                }
                None => {
                    let _ = writeln!(w, "    - {}", q(l));
                }
            }
        }
    }
    // The release of each tool the script runs: from the job image's tag where it says it, else
    // a placeholder (the scenario must name one).
    for tool in JobTool::ALL {
        let from_tag = ci.image.as_deref().and_then(|i| release_in_tag(tool, i));
        let (release, note) = match from_tag {
            Some(v) => (v, "from the job image's tag".to_string()),
            None if tool.runs(&ci.script) => {
                let (placeholder, where_) = match tool {
                    JobTool::DockerCli => ("20.10.24", "`docker version` in the job prints the Client's Version"),
                    JobTool::Podman => ("4.3.1", "`podman --version` in the job"),
                    JobTool::Buildah => ("1.28.2", "`buildah --version` in the job"),
                    JobTool::Kaniko => ("1.23.2", "the executor image's tag"),
                };
                (
                    placeholder.to_string(),
                    format!("UNKNOWN: the job image's {} release ({where_})", tool.command()),
                )
            }
            None => continue,
        };
        let _ = writeln!(w, "  {}: {}   # {note}", tool.field(), q(&release));
    }

    let _ = writeln!(w, "runner:");
    let runner_version = if executor == "kubernetes" {
        KUBERNETES_RUNNER_VERSION
    } else {
        RUNNER_VERSION
    };
    let _ = writeln!(
        w,
        "  version: {runner_version}   # UNKNOWN: `gitlab-runner --version`, or the job log's first line"
    );
    let _ = writeln!(w, "  executor: {}", q(&executor));
    let name = runner
        .and_then(|r| r.name.clone())
        .unwrap_or_else(|| "my-runner".into());
    let _ = writeln!(w, "  name: {}", q(&name));
    let _ = writeln!(
        w,
        "  token: {RUNNER_TOKEN}   # the runner's token is a secret: not copied"
    );
    if let Some(r) = runner {
        if !r.pull_policy.is_empty() {
            let _ = writeln!(w, "  pull_policy: {}", flow(&r.pull_policy));
        }
        if !r.allowed_pull_policies.is_empty() {
            let _ = writeln!(w, "  allowed_pull_policies: {}", flow(&r.allowed_pull_policies));
        }
        if !r.volumes.is_empty() {
            let _ = writeln!(w, "  volumes: {}", flow(&r.volumes));
        }
        if !r.dns.is_empty() {
            let _ = writeln!(w, "  dns: {}", flow(&r.dns));
        }
        if !r.environment.is_empty() {
            let _ = writeln!(w, "  environment:");
            for e in &r.environment {
                let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
                let (v, note) = variable(k, v);
                let _ = writeln!(
                    w,
                    "    - {}{}",
                    q(&format!("{k}={v}")),
                    note.map(|n| format!("   # {n}")).unwrap_or_default()
                );
            }
        }
        if !r.feature_flags.is_empty() {
            let _ = writeln!(w, "  feature_flags:");
            for (k, v) in &r.feature_flags {
                let _ = writeln!(w, "    {k}: {v}");
            }
        }
        if executor == "kubernetes" {
            let _ = writeln!(w, "  kubernetes:");
            if let Some(ns) = &r.kubernetes_namespace {
                let _ = writeln!(w, "    namespace: {}", q(ns));
            }
            if !r.image_pull_secrets.is_empty() {
                let _ = writeln!(w, "    image_pull_secrets: {}", flow(&r.image_pull_secrets));
            }
            if let Some(t) = r.poll_timeout {
                let _ = writeln!(w, "    poll_timeout: {t}");
            }
            if r.kubernetes_privileged {
                let _ = writeln!(w, "    privileged: true");
            }
        }
        for n in &r.not_modelled {
            let _ = writeln!(w, "  # config.toml, not modelled by regsim: {n}");
        }
    }
    if executor == "kubernetes" {
        let _ = writeln!(w, "kubernetes:");
        let _ = writeln!(
            w,
            "  version: {KUBELET_VERSION}   # UNKNOWN: the node's kubelet (`kubectl get nodes -o wide`)"
        );
        let _ = writeln!(
            w,
            "  containerd: {CONTAINERD_VERSION}   # UNKNOWN: the node's container runtime (same command)"
        );
        let secrets = runner.map(|r| r.image_pull_secrets.clone()).unwrap_or_default();
        if !secrets.is_empty() {
            let _ = writeln!(
                w,
                "  secrets:   # UNKNOWN: each secret's .dockerconfigjson (`kubectl get secret NAME -o jsonpath='{{.data.\\.dockerconfigjson}}' | base64 -d`)"
            );
            for s in secrets {
                let _ = writeln!(w, "    {}: {}", q(&s), q("{\"auths\": {}}"));
            }
        }
    } else {
        let _ = writeln!(w, "docker:");
        let _ = writeln!(
            w,
            "  version: {DOCKER_VERSION}   # UNKNOWN: `docker version` on the runner host (Server: Engine)"
        );
    }
    let _ = writeln!(w, "expect:");
    let _ = writeln!(w, "  outcome: fails   # UNKNOWN: what your job did (succeeds or fails)");
    y
}

/// A project's `created_in` from its `created_at` day: only which side of GitLab 15.9 it was
/// created on decides anything (the inbound allowlist's default), so 15.9.0 or 15.8.0 — never a
/// release newer than the instance.
fn created_in(day: &str, instance: &str) -> (String, String) {
    use regsim_model::versions::gitlab::{INBOUND_ALLOWLIST_DEFAULT_ON, INBOUND_ALLOWLIST_DEFAULT_ON_RELEASED};
    let after = day >= INBOUND_ALLOWLIST_DEFAULT_ON_RELEASED;
    let side = if after {
        INBOUND_ALLOWLIST_DEFAULT_ON.to_string()
    } else {
        "15.8.0".to_string()
    };
    let capped = match (
        regsim_model::versions::parse_version(&side),
        regsim_model::versions::parse_version(instance),
    ) {
        (Ok(s), Ok(i)) if i < s => instance.to_string(),
        _ => side,
    };
    let note = format!(
        "created_at {day}: {} GitLab 15.9 ({INBOUND_ALLOWLIST_DEFAULT_ON_RELEASED} on GitLab.com), which turned the allowlist on \
         for new projects; on a self-managed instance, the release it ran that day",
        if after { "on or after" } else { "before" }
    );
    (capped, note)
}

/// The release of `tool` the job image's tag says: `docker:24.0.9` / `docker:24.0.9-dind` (not
/// `docker:24`) for the Docker CLI, `gcr.io/kaniko-project/executor:v1.23.2-debug` for kaniko.
fn release_in_tag(tool: JobTool, image: &str) -> Option<String> {
    let r = Reference::parse(image).ok()?;
    let image_of_tool = match tool {
        JobTool::DockerCli => r.domain == "docker.io" && r.path == "library/docker",
        JobTool::Kaniko => r.domain == "gcr.io" && r.path == "kaniko-project/executor",
        JobTool::Podman | JobTool::Buildah => false,
    };
    if !image_of_tool {
        return None;
    }
    let tag = r.tag_or_latest();
    let v = tag
        .split('-')
        .next()?
        .strip_prefix('v')
        .unwrap_or(tag.split('-').next()?);
    (v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u32>().is_ok())).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_and_registry_keys_kept() {
        let (v, note) = variable(
            "DOCKER_AUTH_CONFIG",
            r#"{"auths":{"registry.example.com:5000":{"auth":"dXNlcjpodW50ZXIy"}},"credHelpers":{"1.dkr.ecr.x.amazonaws.com":"ecr-login"}}"#,
        );
        assert!(!v.contains("dXNlcjpodW50ZXIy"), "{v}");
        assert!(
            v.contains("registry.example.com:5000") && v.contains("ecr-login"),
            "{v}"
        );
        assert!(note.is_some());
        assert_eq!(variable("CI_DEPLOY_PASSWORD", "hunter2").0, SECRET);
        assert_eq!(variable("MY_TOKEN", "$CI_JOB_TOKEN").0, "$CI_JOB_TOKEN");
        assert_eq!(variable("DOCKER_HOST", "tcp://docker:2375").0, "tcp://docker:2375");
        assert_eq!(variable("MIRROR", "glpat-abcdefghij0123456789").0, SECRET);
        assert_eq!(variable("RUNNER", "GR1348941abcdef").0, SECRET);
        assert_eq!(variable("NOTE", "glpat-").0, "glpat-");
        assert_eq!(
            release_in_tag(JobTool::DockerCli, "docker:24.0.9-dind").as_deref(),
            Some("24.0.9")
        );
        assert_eq!(release_in_tag(JobTool::DockerCli, "docker:24"), None);
        assert_eq!(
            release_in_tag(JobTool::Kaniko, "gcr.io/kaniko-project/executor:v1.23.2-debug").as_deref(),
            Some("1.23.2")
        );
        assert_eq!(release_in_tag(JobTool::Kaniko, "docker:24.0.9"), None);
    }

    #[test]
    fn literal_secrets_in_script_lines_are_replaced() {
        let r = |l: &str| redact_script_line(l);
        assert_eq!(
            r(r#"docker login -u ci -p "s3cret pass"  registry.example.com"#).as_deref(),
            Some("docker login -u ci -p REPLACE-ME  registry.example.com")
        );
        assert_eq!(
            r("docker login -u ci -ps3cret registry.example.com").as_deref(),
            Some("docker login -u ci -pREPLACE-ME registry.example.com")
        );
        assert_eq!(
            r("docker login --password=s3cret r.example").as_deref(),
            Some("docker login --password=REPLACE-ME r.example")
        );
        assert_eq!(
            r("echo glpat-abcdefghij0123456789 | docker login --password-stdin").as_deref(),
            Some("echo REPLACE-ME | docker login --password-stdin")
        );
        assert_eq!(
            r("git clone https://ci:s3cret@gitlab.example.com/a/b.git").as_deref(),
            Some("git clone https://ci:REPLACE-ME@gitlab.example.com/a/b.git")
        );
        // Variables and flags are not secrets.
        assert_eq!(
            r(r#"docker login -u "$CI_REGISTRY_USER" -p "$CI_REGISTRY_PASSWORD" "$CI_REGISTRY""#),
            None
        );
        assert_eq!(r("docker run -p 8080:80 nginx"), None);
        assert_eq!(
            r("docker login -u ci -p $PASS r.example && docker run -p 8080:80 nginx"),
            None
        );
        assert_eq!(r("docker push -q registry.example.com/a:1"), None);
        assert_eq!(r("git clone https://ci:$TOKEN@gitlab.example.com/a/b.git"), None);
    }
}
