use super::*;
use crate::mock::image::Platform;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::versions::{self, docker as dv, gitlab as gv, parse_version, runner as rv};
use sha2::{Digest, Sha256};
use std::path::Path;
use time::format_description::well_known::Rfc3339;

/// The clock a scenario gets when it names none.
pub const DEFAULT_CLOCK: &str = "2025-01-15T09:00:00Z";

/// Checks a parsed scenario and builds its world. `text` is the file's text, to locate errors.
pub fn build(path: &Path, text: &str, s: &Scenario) -> Result<World, ScenarioError> {
    let err = |field: &str, msg: String| ScenarioError::at(path, text, field, msg);
    let ver = |field: &str, t: &str| parse_version(t).map_err(|m| err(field, m));
    // Docker's push sends at most this many layers at once; more only adds "Waiting" lines.
    let layer_count = |spec: &crate::scenario::StoredImageSpec, field: &str| match spec.layers() {
        n @ 1..=64 => Ok(n),
        n => Err(err(&format!("{field}.layers"), format!("{n}: expected 1 to 64 layers"))),
    };

    let platforms = |spec: &crate::scenario::StoredImageSpec, field: &str| {
        let mut out = Vec::new();
        for (k, p) in spec.platforms().iter().enumerate() {
            let parsed = Platform::parse(p).ok_or_else(|| {
                err(
                    &format!("{field}.platforms[{k}]"),
                    format!("`{p}`: expected os/arch or os/arch/variant"),
                )
            })?;
            if out.contains(&parsed) {
                return Err(err(
                    &format!("{field}.platforms[{k}]"),
                    format!("`{p}` is listed twice"),
                ));
            }
            out.push(parsed);
        }
        Ok(out)
    };
    // Only the Docker Hub mock serves manifest lists.
    let no_platforms = |spec: &crate::scenario::StoredImageSpec, field: &str| {
        if spec.platforms().is_empty() {
            Ok(Vec::new())
        } else {
            Err(err(
                &format!("{field}.platforms"),
                "multi-platform images are modelled on docker_hub only".into(),
            ))
        }
    };

    let clock_text = s.clock.as_deref().unwrap_or(DEFAULT_CLOCK);
    let clock = OffsetDateTime::parse(clock_text, &Rfc3339)
        .map_err(|e| err("clock", format!("`{clock_text}` is not an RFC 3339 time: {e}")))?;

    // The instance.
    let gl_version = ver("gitlab.version", &s.gitlab.version)?;
    let (scheme, host) = parse_external_url(&s.gitlab.external_url).map_err(|m| err("gitlab.external_url", m))?;
    let registry = Authority::parse(&s.gitlab.registry).map_err(|m| err("gitlab.registry", m))?;
    let enforce = match s.gitlab.enforce_job_token_allowlist {
        Some(b) => {
            if b && gl_version < gv::INSTANCE_ENFORCEMENT_SETTING {
                return Err(err(
                    "gitlab.enforce_job_token_allowlist",
                    format!(
                        "GitLab {gl_version} has no instance-wide allowlist enforcement (from {})",
                        gv::INSTANCE_ENFORCEMENT_SETTING
                    ),
                ));
            }
            Derived::explicit(b)
        }
        None if gl_version >= gv::INSTANCE_ENFORCEMENT_ON => Derived::by_rule(
            true,
            format!(
                "GitLab {gl_version} ≥ {} enforces it on every instance by default ({})",
                gv::INSTANCE_ENFORCEMENT_ON,
                gv::INSTANCE_ENFORCEMENT_SOURCE
            ),
        ),
        None => Derived::explicit(false),
    };
    let (proxy_era, proxy_licensed) = proxy_era(&s.gitlab, &gl_version).map_err(|(f, m)| err(f, m))?;
    let gitlab = Instance {
        release: gv::release(&gl_version),
        version: gl_version.clone(),
        scheme,
        host,
        registry,
        registry_enabled: true,
        token_expire_minutes: s.gitlab.registry_token_expire_minutes.unwrap_or(5),
        issuer: s
            .gitlab
            .registry_issuer
            .clone()
            .unwrap_or_else(|| "omnibus-gitlab-issuer".into()),
        enforce_allowlist: enforce,
        dependency_proxy: s.gitlab.dependency_proxy.unwrap_or(true),
        proxy_era,
        proxy_licensed,
    };

    // Users: everyone named anywhere exists; `users:` adds passwords, 2FA and admin.
    let mut users: Vec<User> = s
        .users
        .iter()
        .map(|u| User {
            username: u.username.clone(),
            password: u.password.clone(),
            two_factor: u.two_factor,
            admin: u.admin,
            bot: false,
        })
        .collect();
    let add_user = |name: &str, users: &mut Vec<User>| {
        if !users.iter().any(|u| u.username == name) {
            users.push(User {
                username: name.to_string(),
                password: None,
                two_factor: false,
                admin: false,
                bot: false,
            });
        }
    };
    for g in &s.groups {
        for m in g.members.keys() {
            add_user(m, &mut users);
        }
    }
    for p in &s.projects {
        for m in p.members.keys() {
            add_user(m, &mut users);
        }
    }
    add_user(&s.job.user, &mut users);

    let mut groups: Vec<Group> = s
        .groups
        .iter()
        .map(|g| Group {
            path: g.path.clone(),
            visibility: g.visibility,
            members: g.members.clone(),
            dependency_proxy: match g.dependency_proxy {
                Some(b) => Derived::explicit(b),
                None => Derived::by_rule(true, gv::DEPENDENCY_PROXY_GROUP_DEFAULT_SOURCE.to_string()),
            },
            sso_enforced_for_dependency_proxy: g
                .saml_sso
                .as_ref()
                .filter(|s| s.enforce_for_git_and_dependency_proxy)
                .map(|s| s.active_sessions.clone()),
        })
        .collect();
    for (i, g) in s.groups.iter().enumerate() {
        if let Some(sso) = &g.saml_sso {
            if g.path.contains('/') {
                return Err(err(
                    &format!("groups[{i}].saml_sso"),
                    "SAML SSO is configured on top-level groups only".into(),
                ));
            }
            if sso.enforce_for_git_and_dependency_proxy && gl_version < gv::DEPENDENCY_PROXY_SSO_ENFORCEMENT {
                return Err(err(
                    &format!("groups[{i}].saml_sso"),
                    format!(
                        "SSO enforcement for the Dependency Proxy arrived with MR !67373, modelled from GitLab {} \
                         (the exact release is UNCONFIRMED, docs/research/dependency-proxy.md Q2)",
                        gv::DEPENDENCY_PROXY_SSO_ENFORCEMENT
                    ),
                ));
            }
        }
    }

    // Projects.
    let mut projects = Vec::new();
    for (i, p) in s.projects.iter().enumerate() {
        let f = |name: &str| format!("projects[{i}].{name}");
        let created_in = ver(&f("created_in"), &p.created_in)?;
        if created_in > gl_version {
            return Err(err(
                &f("created_in"),
                format!("{created_in} is newer than the instance ({gl_version})"),
            ));
        }
        if !p.path.contains('/') {
            return Err(err(
                &f("path"),
                format!("`{}` needs a namespace (group/project)", p.path),
            ));
        }
        let al = p.job_token_allowlist.clone().unwrap_or(scenario::Allowlist {
            enabled: None,
            projects: vec![],
            groups: vec![],
        });
        let inbound = match al.enabled {
            Some(b) => Derived::explicit(b),
            None if created_in >= gv::INBOUND_ALLOWLIST_DEFAULT_ON => Derived::by_rule(
                true,
                format!(
                    "default for projects created in GitLab ≥ {} (created in {created_in}); {}",
                    gv::INBOUND_ALLOWLIST_DEFAULT_ON,
                    gv::INBOUND_ALLOWLIST_DEFAULT_SOURCE
                ),
            ),
            None => Derived::by_rule(
                false,
                format!(
                    "default for projects created before GitLab {} (created in {created_in}); {}",
                    gv::INBOUND_ALLOWLIST_DEFAULT_ON,
                    gv::INBOUND_ALLOWLIST_DEFAULT_SOURCE
                ),
            ),
        };
        if !al.groups.is_empty() && gl_version < gv::GROUP_ALLOWLIST {
            return Err(err(
                &f("job_token_allowlist.groups"),
                format!(
                    "groups can be added to the allowlist from GitLab {} (gitlab-rails.md §4.3)",
                    gv::GROUP_ALLOWLIST
                ),
            ));
        }
        let registry_access = match p.container_registry {
            Some(a) => Derived::explicit(a),
            None => Derived::by_rule(
                RegistryAccess::Enabled,
                "GitLab's default for a new project: \"Everyone with access\"",
            ),
        };
        let mut images = Vec::new();
        for (j, spec) in p.images.iter().enumerate() {
            let field = f(&format!("images[{j}]"));
            let img = spec.name();
            let (repo, tag) = img
                .rsplit_once(':')
                .filter(|(r, _)| !r.contains('/') || !r.ends_with('/'))
                .ok_or_else(|| err(&field, format!("`{img}` needs a tag (path:tag)")))?;
            if tag.contains('/') {
                return Err(err(&field, format!("`{img}` needs a tag (path:tag)")));
            }
            let lower = p.path.to_lowercase();
            if repo != lower && !repo.starts_with(&format!("{lower}/")) {
                return Err(err(&field, format!("`{repo}` is not under the project path `{lower}`")));
            }
            images.push(StoredImage {
                repository: repo.to_string(),
                tag: tag.to_string(),
                layers: layer_count(spec, &field)?,
                platforms: no_platforms(spec, &field)?,
            });
        }
        projects.push(Project {
            id: 1000 + i as u64 + 1,
            path: p.path.clone(),
            visibility: p.visibility,
            created_in,
            registry_access,
            members: p.members.clone(),
            inbound_allowlist: inbound,
            allowlist_projects: al.projects.clone(),
            allowlist_groups: al.groups.clone(),
            images,
            variables: p.variables.clone(),
        });
    }
    // Allowlist entries must name projects and groups that exist.
    for (i, p) in s.projects.iter().enumerate() {
        if let Some(al) = &p.job_token_allowlist {
            for (j, e) in al.projects.iter().enumerate() {
                if !projects.iter().any(|q| q.path.eq_ignore_ascii_case(e)) {
                    return Err(err(
                        &format!("projects[{i}].job_token_allowlist.projects[{j}]"),
                        format!("no project `{e}` in this scenario"),
                    ));
                }
            }
            for (j, e) in al.groups.iter().enumerate() {
                if !groups.iter().any(|g| g.path.eq_ignore_ascii_case(e)) {
                    return Err(err(
                        &format!("projects[{i}].job_token_allowlist.groups[{j}]"),
                        format!("no group `{e}` in this scenario"),
                    ));
                }
            }
        }
    }

    // Tokens.
    let mut tokens = Vec::new();
    for (i, t) in s.tokens.iter().enumerate() {
        let f = |name: &str| format!("tokens[{i}].{name}");
        const KNOWN: &[&str] = &[
            "api",
            "read_api",
            "read_user",
            "read_repository",
            "write_repository",
            "read_registry",
            "write_registry",
            "sudo",
            "admin_mode",
            "create_runner",
            "manage_runner",
            "ai_features",
            "k8s_proxy",
            "read_service_ping",
            "read_package_registry",
            "write_package_registry",
            "self_rotate",
        ];
        for (j, sc) in t.scopes.iter().enumerate() {
            if !KNOWN.contains(&sc.as_str()) {
                return Err(err(&f(&format!("scopes[{j}]")), format!("unknown token scope `{sc}`")));
            }
        }
        let expires_at = match &t.expires_at {
            Some(d) => Some(
                Date::parse(d, &time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|e| err(&f("expires_at"), format!("`{d}` is not a date (YYYY-MM-DD): {e}")))?,
            ),
            None => None,
        };
        let need = |field: &str, v: &Option<String>| {
            v.clone()
                .ok_or_else(|| err(&f("kind"), format!("a {:?} needs `{field}`", t.kind)))
        };
        let (owner, bot_user) = match t.kind {
            TokenKind::PersonalAccessToken => {
                let u = need("user", &t.user)?;
                add_user(&u, &mut users);
                (TokenOwner::User(u), None)
            }
            TokenKind::ProjectAccessToken => {
                let p = need("project", &t.project)?;
                let proj = projects
                    .iter()
                    .find(|q| q.path.eq_ignore_ascii_case(&p))
                    .ok_or_else(|| err(&f("project"), format!("no project `{p}`")))?;
                // Bot usernames are `project_<id>_bot_<hex>` on recent GitLab; the suffix is random
                // there, so regsim derives it from the token name.
                let bot = format!("project_{}_bot_{}", proj.id, short_hash(&t.name));
                (TokenOwner::Project(proj.path.clone()), Some(bot))
            }
            TokenKind::GroupAccessToken => {
                let g = need("group", &t.group)?;
                if !groups.iter().any(|q| q.path.eq_ignore_ascii_case(&g)) {
                    return Err(err(&f("group"), format!("no group `{g}`")));
                }
                (
                    TokenOwner::Group(g.clone()),
                    Some(format!("group_{}_bot_{}", i + 1, short_hash(&t.name))),
                )
            }
            TokenKind::DeployToken => match (&t.project, &t.group) {
                (Some(p), None) => {
                    if !projects.iter().any(|q| q.path.eq_ignore_ascii_case(p)) {
                        return Err(err(&f("project"), format!("no project `{p}`")));
                    }
                    (TokenOwner::Project(p.clone()), None)
                }
                (None, Some(g)) => (TokenOwner::Group(g.clone()), None),
                _ => {
                    return Err(err(
                        &f("kind"),
                        "a deploy token needs exactly one of `project` or `group`".into(),
                    ));
                }
            },
        };
        if matches!(t.kind, TokenKind::ProjectAccessToken | TokenKind::GroupAccessToken) && t.role.is_none() {
            return Err(err(&f("kind"), format!("a {:?} needs `role`", t.kind)));
        }
        if let (Some(bot), Some(role)) = (&bot_user, t.role) {
            users.push(User {
                username: bot.clone(),
                password: None,
                two_factor: false,
                admin: false,
                bot: true,
            });
            // The bot is a member of the token's project or group with the token's role.
            match &owner {
                TokenOwner::Project(p) => {
                    if let Some(proj) = projects.iter_mut().find(|q| q.path.eq_ignore_ascii_case(p)) {
                        proj.members.insert(bot.clone(), role);
                    }
                }
                TokenOwner::Group(g) => {
                    if let Some(grp) = groups.iter_mut().find(|q| q.path.eq_ignore_ascii_case(g)) {
                        grp.members.insert(bot.clone(), role);
                    }
                }
                TokenOwner::User(_) => {}
            }
        }
        let id = i as u64 + 1;
        tokens.push(Token {
            id,
            kind: t.kind,
            name: t.name.clone(),
            value: t.value.clone(),
            owner,
            bot_user,
            role: t.role,
            scopes: t.scopes.clone(),
            expires_at,
            revoked: t.revoked,
            username: if t.kind == TokenKind::DeployToken {
                Some(
                    t.username
                        .clone()
                        .unwrap_or_else(|| format!("gitlab+deploy-token-{id}")),
                )
            } else {
                None
            },
        });
    }

    // Registries that are not GitLab's.
    let mut registries = Vec::new();
    for (i, r) in s.registries.iter().enumerate() {
        let f = |name: &str| format!("registries[{i}].{name}");
        let host = Authority::parse(&r.host).map_err(|m| err(&f("host"), m))?;
        if host == gitlab.registry || host.host.eq_ignore_ascii_case(&gitlab.host.host) && host.port == gitlab.host.port
        {
            return Err(err(
                &f("host"),
                format!("`{host}` is GitLab's own; describe GitLab's registry under `gitlab`"),
            ));
        }
        let auth = match r.auth.as_str() {
            "basic" => RegistryAuth::Basic {
                realm: r.realm.clone().unwrap_or_else(|| "Registry Realm".into()),
                users: r.users.clone(),
            },
            "none" => RegistryAuth::None,
            other => return Err(err(&f("auth"), format!("`{other}`: expected basic or none"))),
        };
        let mut images = Vec::new();
        for (j, spec) in r.images.iter().enumerate() {
            let img = spec.name();
            let (repo, tag) = img
                .rsplit_once(':')
                .filter(|(r, t)| !r.is_empty() && !t.contains('/'))
                .ok_or_else(|| err(&f(&format!("images[{j}]")), format!("`{img}` needs a tag (path:tag)")))?;
            images.push(StoredImage {
                repository: repo.to_string(),
                tag: tag.to_string(),
                layers: layer_count(spec, &f(&format!("images[{j}]")))?,
                platforms: no_platforms(spec, &f(&format!("images[{j}]")))?,
            });
        }
        registries.push(OtherRegistry { host, auth, images });
    }

    // Docker Hub.
    let docker_hub = match &s.docker_hub {
        None => None,
        Some(h) => {
            let mut images = Vec::new();
            for (j, spec) in h.images.iter().enumerate() {
                let field = format!("docker_hub.images[{j}]");
                let img = spec.name();
                let (repo, tag) = img
                    .rsplit_once(':')
                    .filter(|(r, t)| !r.is_empty() && !t.contains('/'))
                    .ok_or_else(|| err(&field, format!("`{img}` needs a tag (name:tag)")))?;
                // Official images live under `library/` (DependencyProxy::Registry.image_path).
                let repository = if repo.contains('/') {
                    repo.to_string()
                } else {
                    format!("library/{repo}")
                };
                images.push(StoredImage {
                    repository,
                    tag: tag.to_string(),
                    layers: layer_count(spec, &field)?,
                    platforms: platforms(spec, &field)?,
                });
            }
            let rate_limit = h.rate_limit.unwrap_or(100);
            let pulls_used = h.pulls_used.unwrap_or(0);
            if pulls_used > rate_limit {
                return Err(err(
                    "docker_hub.pulls_used",
                    format!("{pulls_used} pulls used is more than the limit of {rate_limit}"),
                ));
            }
            Some(crate::world::DockerHub {
                images,
                rate_limit,
                pulls_used,
            })
        }
    };

    // The job.
    if !projects.iter().any(|p| p.path.eq_ignore_ascii_case(&s.job.project)) {
        return Err(err(
            "job.project",
            format!("no project `{}` in this scenario", s.job.project),
        ));
    }
    let (image, image_pull_policy) = match &s.job.image {
        scenario::ImageSpec::Name(n) => (n.clone(), None),
        scenario::ImageSpec::Full(f) => (f.name.clone(), f.pull_policy.as_ref().map(|p| p.to_vec())),
    };
    for (field, pp) in [
        ("job.image.pull_policy", &image_pull_policy),
        ("runner.pull_policy", &s.runner.pull_policy.as_ref().map(|p| p.to_vec())),
    ] {
        if let Some(list) = pp {
            for p in list {
                if !["always", "if-not-present", "never"].contains(&p.as_str()) {
                    return Err(err(
                        field,
                        format!("unsupported pull_policy `{p}` (always, if-not-present, never)"),
                    ));
                }
            }
        }
    }
    let job = Job {
        id: 4242,
        project: s.job.project.clone(),
        user: s.job.user.clone(),
        token: format!(
            "jobtoken{}",
            short_hash(&format!("{}:{}", path.display(), s.job.project))
        ),
        image,
        image_pull_policy: image_pull_policy.clone(),
        repeat: match &s.job.repeat {
            None => (1, 0),
            Some(r) if r.times == 0 => return Err(err("job.repeat.times", "a job runs at least once".into())),
            // Docker Hub's counter restarts after 6 hours; regsim keeps one window.
            Some(r) if u64::from(r.times - 1) * u64::from(r.every_minutes) >= 360 => {
                return Err(err(
                    "job.repeat",
                    format!(
                        "{} runs {} minutes apart span {} minutes: Docker Hub's 6-hour rate-limit window would restart, \
                         which is not modelled",
                        r.times,
                        r.every_minutes,
                        (r.times - 1) * r.every_minutes
                    ),
                ));
            }
            Some(r) => (r.times, r.every_minutes),
        },
        variables: s.job.variables.clone(),
        services: s
            .job
            .services
            .iter()
            .map(|sv| (sv.name().to_string(), sv.alias().map(str::to_string)))
            .collect(),
        script: s.job.script.clone(),
        docker_client: match &s.job.docker_client {
            None if s
                .job
                .script
                .iter()
                .any(|l| l.trim_start().starts_with("docker ") || l.trim_start().starts_with("sbt ")) =>
            {
                return Err(err(
                    "job.docker_client",
                    "the script runs docker (or sbt's DockerPlugin): say which Docker CLI the job image has (e.g. \"18.09.4\")".into(),
                ));
            }
            None => None,
            Some(t) => Some(
                crate::versions::docker_cli::profile(&ver("job.docker_client", t)?)
                    .map_err(|m| err("job.docker_client", m))?,
            ),
        },
        dockerfile: s.job.dockerfile.clone(),
        sbt_native_packager: match &s.job.sbt_native_packager {
            None => None,
            Some(spec) => Some(crate::world::SbtNativePackager {
                profile: crate::versions::sbt_native_packager::profile(&ver(
                    "job.sbt_native_packager.version",
                    &spec.version,
                )?)
                .map_err(|m| err("job.sbt_native_packager.version", m))?,
                alias: spec.docker_alias.clone(),
                base_image: spec.docker_base_image.clone(),
            }),
        },
    };

    // The runner.
    let rver = ver("runner.version", &s.runner.version)?;
    if s.runner.executor != "docker" {
        return Err(err(
            "runner.executor",
            format!("executor `{}` is not modelled (docker only)", s.runner.executor),
        ));
    }
    let release = rv::release(&rver).map_err(|m| err("runner.version", m))?;
    if release.revision.is_none() {
        return Err(err(
            "runner.version",
            format!("gitlab-runner {rver} is not a release tag in data/runner_revisions.tsv"),
        ));
    }
    // What the release can do with the pull policies the scenario asks for (gitlab-runner.md §4).
    if image_pull_policy.is_some() && rver < versions::v(15, 1, 0) {
        return Err(err(
            "job.image.pull_policy",
            format!("`pull_policy:` in .gitlab-ci.yml needs gitlab-runner 15.1 (this is {rver})"),
        ));
    }
    let runner_policies = s.runner.pull_policy.as_ref().map(|p| p.to_vec()).unwrap_or_default();
    if runner_policies.len() > 1 && !release.pull_policy_loop {
        return Err(err(
            "runner.pull_policy",
            format!("several pull policies need gitlab-runner 13.8 (this is {rver})"),
        ));
    }
    let all_policies = image_pull_policy.iter().flatten().chain(runner_policies.iter());
    if all_policies.clone().any(|p| p == "never") && release.inspect_call_site.is_none() {
        return Err(err(
            "runner.version",
            format!(
                "pull policy `never` on gitlab-runner {rver}: its inspect call site is not tabulated (gitlab-runner.md §1.3 starts at 13.9)"
            ),
        ));
    }
    let runner = RunnerHost {
        version: rver,
        release,
        name: s.runner.name.clone().unwrap_or_else(|| "docker-runner".into()),
        token: s
            .runner
            .token
            .clone()
            .unwrap_or_else(|| "glrt-t1_regsimRunnerTok3n".into()),
        machine_id: s
            .runner
            .machine_id
            .clone()
            .or_else(|| Some("6a0f3d1bd3c14e7c9c6a1b2f4e8d9a01".into())),
        pull_policy: s.runner.pull_policy.as_ref().map(|p| p.to_vec()),
        docker_config: s.runner.docker_config.clone(),
        home: s.runner.home.clone().unwrap_or_else(|| "/root".into()),
        dns: s.runner.dns.clone(),
    };

    // The Docker engine.
    let dver = ver("docker.version", &s.docker.version)?;
    let store = match s.docker.image_store.as_deref() {
        Some("graphdriver") => Derived::explicit(dv::ImageStore::Graphdriver),
        Some("containerd") => Derived::explicit(dv::ImageStore::Containerd),
        Some(other) => {
            return Err(err(
                "docker.image_store",
                format!("`{other}`: expected graphdriver or containerd"),
            ));
        }
        None => {
            let s = dv::default_image_store(&dver);
            Derived::by_rule(
                s,
                "Docker 29 uses containerd on fresh installs, graphdriver before (docker-errors.md §3)",
            )
        }
    };
    let profile = dv::profile(&dver, store.value).map_err(|m| err("docker.version", m))?;
    let platform = match &s.docker.platform {
        None => Platform::default(),
        Some(p) => Platform::parse(p)
            .ok_or_else(|| err("docker.platform", format!("`{p}`: expected os/arch or os/arch/variant")))
            .map(|mut p| {
                // An arm64 host reports variant v8 (containerd platforms.DefaultSpec, cpuVariant).
                if p.architecture == "arm64" && p.variant.is_none() {
                    p.variant = Some("v8".into());
                }
                p
            })?,
    };
    let docker = DockerHost {
        version: dver,
        pull_seconds: s.docker.pull_seconds,
        platform,
        store,
        profile,
    };

    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(World {
        name,
        description: s.description.trim().to_string(),
        seed: s.seed.clone(),
        clock,
        token_clock: clock,
        gitlab,
        users,
        groups,
        projects,
        tokens,
        registries,
        docker_hub,
        job,
        runner,
        docker,
        expect: Expect {
            outcome: s.expect.outcome,
            lines: s.expect.lines.clone(),
            post_redactions: s
                .expect
                .post_redactions
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let field = format!("expect.post_redactions[{i}]");
                    match (&r.replace, &r.pattern) {
                        (Some(t), None) => Ok(crate::world::Redaction::Text {
                            replace: t.clone(),
                            with: r.with.clone(),
                        }),
                        (None, Some(p)) => regex::Regex::new(p)
                            .map(|pattern| crate::world::Redaction::Pattern {
                                pattern,
                                with: r.with.clone(),
                            })
                            .map_err(|e| {
                                // The regex crate's message draws a caret under the pattern over
                                // several lines; its last line is the reason.
                                let why = e.to_string().lines().last().unwrap_or_default().to_string();
                                err(&format!("{field}.pattern"), format!("not a regular expression ({why})"))
                            }),
                        _ => Err(err(&field, "give exactly one of `replace` and `pattern`".into())),
                    }
                })
                .collect::<Result<_, _>>()?,
            not_reproduced: s
                .expect
                .not_reproduced
                .iter()
                .map(|n| (n.line.clone(), n.why.trim().to_string()))
                .collect(),
        },
    })
}

fn parse_external_url(u: &str) -> Result<(String, Authority), String> {
    let url = url::Url::parse(u).map_err(|e| format!("`{u}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{u}`: external_url must be http or https"));
    }
    let host = url.host_str().ok_or_else(|| format!("`{u}` has no host"))?.to_string();
    Ok((url.scheme().to_string(), Authority { host, port: url.port() }))
}

fn short_hash(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The Dependency Proxy's era for this release (`gv::dependency_proxy_eras`), with the feature
/// flag that switched its authentication on (13.7 – 14.x) applied, and whether the license covers
/// it (Premium before 13.6). Errors name the field.
fn proxy_era(
    gl: &crate::scenario::Gitlab,
    version: &semver::Version,
) -> Result<(Derived<gv::ProxyEra>, bool), (&'static str, String)> {
    let era = crate::versions::lookup(&gv::dependency_proxy_eras(), version)
        .cloned()
        .unwrap_or_else(|| gv::dependency_proxy_eras()[0].clone());
    for name in gl.feature_flags.keys() {
        if name != gv::PRIVATE_GROUPS_FLAG {
            return Err((
                "gitlab.feature_flags",
                format!(
                    "regsim knows one feature flag, `{}`; `{name}` is not modelled",
                    gv::PRIVATE_GROUPS_FLAG
                ),
            ));
        }
    }
    let mut derived = Derived::by_rule(era.value, format!("GitLab {version}: {}", era.source));
    if let Some(&on) = gl.feature_flags.get(gv::PRIVATE_GROUPS_FLAG) {
        if *version < gv::DEPENDENCY_PROXY_AUTHENTICATED || *version >= gv::PRIVATE_GROUPS_FLAG_REMOVED {
            return Err((
                "gitlab.feature_flags",
                format!(
                    "`{}` exists from GitLab {} until its removal in {} (seed 002), not in {version}",
                    gv::PRIVATE_GROUPS_FLAG,
                    gv::DEPENDENCY_PROXY_AUTHENTICATED,
                    gv::PRIVATE_GROUPS_FLAG_REMOVED
                ),
            ));
        }
        let mut e = era.value;
        e.authenticates = on;
        derived = Derived::explicit(e);
    }
    let licensed = !era.value.premium_only
        || matches!(
            gl.license,
            Some(crate::scenario::License::Premium | crate::scenario::License::Ultimate)
        );
    Ok((derived, licensed))
}
