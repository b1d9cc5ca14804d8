//! The kubernetes executor (`executors/kubernetes`, 16.2 – 17.11; runner-executors-credentials.md
//! §4–§5, as read at v16.2.0 and v17.5.0): `Prepare` prints the namespace and image and creates
//! nothing; `Run` creates the job's pull secret and the build pod in `Preparing environment`, and
//! the kubelet (`regsim_clients::kubelet`) pulls the pod's images through the node's containerd.
//! The runner polls the pod every 3 s, printing the pending pod's conditions, until a container
//! waits in `ErrImagePull` or `ImagePullBackOff`; then the pod's Warning events, the pull
//! manager's warning, and the BuildError that ends the job.
//!
//! What the scenario states because a real cluster decides it by timing: how many polls find the
//! pod pending (`runner.kubernetes.pending_polls`) and which waiting reason the failing poll meets
//! (`runner.kubernetes.sees`). Assumed: a node that has none of the job's images but has the
//! helper image (the `helper` and `init-permissions` containers start; the runner names it only
//! in its debug log), events listed in the order the kubelet recorded them, one job on the runner
//! (`concurrent-0`).

use super::Prepared;
use crate::JobEnv;
use crate::credentials::{Ignored, Inputs, helper::Installed, resolve_configs};
use crate::pull::PullError;
use crate::services::{StartedService, link_names, split_name_and_version};
use crate::trace::Trace;
use regsim_clients::containerd::SimulatedContainerd;
use regsim_clients::kubelet::{DockerKeyring, SimulatedKubelet};
use regsim_model::versions::executors::kubernetes::{
    HelperWarning, NAME_MAX_LENGTH, POD_SUFFIX_LENGTH, POLL_INTERVAL_SECS, PodNaming, Strategy, WarningEvents,
    go_duration, release,
};
use regsim_model::versions::kubelet;
use regsim_model::versions::runner::shorten_token;
use regsim_model::world::{Cluster, RunnerKubernetes, WaitingReason, World};
use regsim_wire::NotModelled;
use regsim_wire::job_api::{JobPayload, PullPolicy};

/// One container of the build pod whose image the kubelet pulls.
struct PodContainer {
    name: String,
    image: String,
}

/// `Build.ProjectUniqueName()` made RFC 1123 compatible, then the random suffix: the runner's
/// `-` and 8 characters, cut for them (`generateNameForK8sResources`, v16.2.0
/// kubernetes.go:2465-2476), or before 16.2 the apiserver's 5 characters of GenerateName.
fn pod_name(
    world: &World,
    payload: &JobPayload,
    k: &RunnerKubernetes,
    naming: PodNaming,
) -> Result<String, NotModelled> {
    let short = shorten_token(world.runner.release.short_token, &world.runner.token);
    let unique = format!("runner-{short}-project-{}-concurrent-0", payload.job_info.project_id);
    // dns.MakeRFC1123Compatible: lower case, only [-a-z0-9], no leading non-alphanumerics, 63 at most.
    let mut unique: String = unique
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect();
    unique = unique
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    unique.truncate(NAME_MAX_LENGTH);
    let (length, alphabet) = naming.suffix();
    let suffix = k
        .pod_suffix
        .clone()
        .unwrap_or_else(|| naming.default_suffix().to_string());
    if suffix.len() != length || !suffix.chars().all(|c| alphabet.contains(c)) {
        return Err(NotModelled::new(format!(
            "runner.kubernetes.pod_suffix `{suffix}`: gitlab-runner {}'s pod names end in {length} characters of `{alphabet}`",
            world.runner.version
        )));
    }
    Ok(match naming {
        PodNaming::Runner => {
            unique.truncate(NAME_MAX_LENGTH - POD_SUFFIX_LENGTH - 1);
            format!("{unique}-{suffix}")
        }
        // The apiserver cuts the base to leave room for its suffix (maxGeneratedNameLength).
        PodNaming::Apiserver => {
            unique.truncate(NAME_MAX_LENGTH - length);
            format!("{unique}{suffix}")
        }
    })
}

/// `ConvertFromDockerPullPolicy` of the one policy in force (`""` when none is configured).
fn kubernetes_policy(world: &World, payload: &JobPayload) -> Result<&'static str, NotModelled> {
    // From 15.1 the executor holds the job's policies against allowed_pull_policies (default: its
    // own pull_policy) in kubernetes.go, with the kubelet's names; that check is not modelled.
    if world.runner.allowed_pull_policies.is_some() || !payload.image.pull_policy.is_empty() {
        return Err(NotModelled::new(
            "a job's pull_policy or allowed_pull_policies on the kubernetes executor: the executor holds the one \
             against the other (default: its own pull_policy) in its own code, which is not modelled",
        ));
    }
    let policies: Vec<PullPolicy> = if !payload.image.pull_policy.is_empty() {
        payload.image.pull_policy.clone()
    } else {
        world.runner.pull_policy.clone().unwrap_or_default()
    };
    match policies.as_slice() {
        [] => Ok(""),
        [PullPolicy::Always] => Ok("Always"),
        [PullPolicy::IfNotPresent] => Ok("IfNotPresent"),
        [PullPolicy::Never] => Err(NotModelled::new(
            "pull policy never on the kubernetes executor: the container waits in ErrImageNeverPull, which the runner \
             does not catch, until poll_timeout; that wait is not modelled",
        )),
        _ => Err(NotModelled::new(
            "several pull policies on the kubernetes executor: a failed pull deletes the pod and creates another with a \
             new random name; not modelled",
        )),
    }
}

pub(super) async fn prepare(world: &World, payload: &JobPayload, env: &JobEnv<'_>, t: &mut Trace) -> Prepared {
    match run(world, payload, env, t).await {
        Ok(p) => p,
        Err(m) => Prepared::unmodelled(m),
    }
}

async fn run(world: &World, payload: &JobPayload, env: &JobEnv<'_>, t: &mut Trace) -> Result<Prepared, NotModelled> {
    let k = world
        .runner
        .kubernetes
        .as_ref()
        .expect("the world gives a kubernetes runner its settings");
    let cluster = world
        .cluster
        .as_ref()
        .expect("the world gives a kubernetes runner its node");
    let mut kr = release(&world.runner.version)?;
    // The two flags that move these lines, as this job has them.
    if kr.warning_events == WarningEvents::BehindFlagOff
        && crate::flags::flag_on(world, payload, "FF_RETRIEVE_POD_WARNING_EVENTS")?
    {
        kr.warning_events = WarningEvents::Printed;
    }
    kr.active_deadline_line = crate::flags::flag_on(world, payload, "FF_USE_POD_ACTIVE_DEADLINE_SECONDS")?;
    // The 13.x defaults regsim models: a job that turns them round is refused.
    for (flag, default_on) in [
        (
            "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY",
            kr.default_strategy == Strategy::LegacyExec,
        ),
        (
            "FF_GITLAB_REGISTRY_HELPER_IMAGE",
            kr.helper_warning == HelperWarning::None,
        ),
    ] {
        let on = if world.runner.version >= regsim_model::versions::feature_flags::LINE_SINCE {
            crate::flags::flag_on(world, payload, flag)?
        } else {
            // Before 13.9 the table does not hold the flags: only the default is modelled.
            if payload.variable(flag).is_some() || world.runner.environment_variable(flag).is_some() {
                return Err(NotModelled::new(format!(
                    "{flag} set for gitlab-runner {}",
                    world.runner.version
                )));
            }
            default_on
        };
        let declared = regsim_model::versions::feature_flags::declared(&world.runner.version)?
            .is_none_or(|flags| flags.iter().any(|(n, _)| *n == flag));
        if declared && on != default_on {
            return Err(NotModelled::new(format!(
                "{flag} turned {} on gitlab-runner {}: only its default is modelled for the kubernetes executor",
                if on { "on" } else { "off" },
                world.runner.version
            )));
        }
    }
    let sections = world.runner.release.sections;
    let mut clock = world.clock.unix_timestamp();
    let image = crate::expand::expanded_image(payload);
    let image_line = if kr.image_line_unexpanded {
        payload.image.name.clone()
    } else {
        image.clone()
    };
    let policy = kubernetes_policy(world, payload)?;

    // Prepare: the namespace and the image; nothing is created yet.
    if sections {
        t.open_section("prepare_executor", clock, "Preparing the \"kubernetes\" executor");
    }
    if !k.namespace_written {
        t.warningln(&kr.namespace_warning.text(&k.namespace));
    }
    t.println(&format!("Using Kubernetes namespace: {}", k.namespace));
    if let HelperWarning::InPrepare(w) = kr.helper_warning {
        t.warningln(w);
    }
    t.println(&format!("Using Kubernetes executor with image {image_line} ..."));
    if kr.default_strategy == Strategy::Attach {
        t.println("Using attach strategy to execute scripts...");
    }
    if sections {
        t.section_end("prepare_executor", clock);
    }

    // The pod, its pull secrets, and the kubelet's pulls.
    let containers = pod_containers(payload)?;
    let (secrets, ignored) = pull_secrets(world, payload, k, cluster, kr.payload_only_secret)?;
    let keyring = DockerKeyring::from_secrets(&secrets)?;
    let node = SimulatedKubelet {
        version: cluster.kubelet.clone(),
        // The node trusts the public CAs of its system store (the Docker host's certs.d is not its).
        runtime: SimulatedContainerd::new(cluster.containerd.clone(), env.network.clone())
            .with_roots(env.trust.system_roots.clone(), env.trust.now)
            .with_platform(cluster.platform.clone()),
    };
    // Pulled in the pod's order (build, then services); each failure is the container's.
    let mut failures = Vec::new();
    for c in &containers {
        if let Err(f) = node.ensure_image_exists(&c.image, &keyring).await? {
            failures.push((c, f.message));
        }
    }
    if failures.is_empty() {
        // The pod runs; the environment's section (`Running on …`) and the script are the later
        // stages, which regsim does not write. The services run in the pod, reached on
        // 127.0.0.1 by the names of its hostAliases.
        return Ok(Prepared {
            outcome: Ok(()),
            services: pod_services(world, payload)?,
            ignored,
            build_image_line: None,
            script_failure: super::ScriptFailure::KubernetesCommandTerminated,
        });
    }

    // Run: the job's section, the polls, the failure.
    if sections {
        t.open_section("prepare_script", clock, "Preparing environment");
    }
    // The legacy strategy builds one helper container, and the warning comes with it.
    if let HelperWarning::PerHelperContainer(w) = kr.helper_warning {
        t.warningln(w);
    }
    if kr.active_deadline_line {
        t.println(&format!(
            "Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS, the Pod activeDeadlineSeconds will be set to the job timeout: {}...",
            go_duration(payload.runner_info.timeout)
        ));
    }
    let pod = pod_name(world, payload, k, kr.pod_naming)?;
    // Container names in the pod's order: build, helper, then the services.
    let mut names = vec!["build".to_string(), "helper".to_string()];
    names.extend((0..payload.services.len()).map(|i| format!("svc-{i}")));
    let unready = format!("containers with unready status: [{}]", names.join(" "));
    for _ in 0..k.pending_polls {
        t.write_raw(&format!(
            "Waiting for pod {}/{pod} to be running, status is Pending\n",
            k.namespace
        ));
        // Ready and ContainersReady, the conditions with a reason (util.go: reason-less are skipped).
        if kr.condition_lines {
            for _ in 0..2 {
                t.write_raw(&format!("\tContainersNotReady: {unready:?}\n"));
            }
        }
        clock += POLL_INTERVAL_SECS as i64;
    }
    // The failing poll: the first container in status order (sorted by name) that waits.
    failures.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let events = warning_events(&failures, k.sees);
    let (container, pull_message) = &failures[0];
    let waiting = match k.sees {
        WaitingReason::ErrImagePull => pull_message.clone(),
        WaitingReason::ImagePullBackOff => kubelet::back_off(&cluster.kubelet, &container.image).ok_or_else(|| {
            NotModelled::new(format!(
                "Kubernetes {}: the back-off message carries the last error from kubernetes#127918 (first release NOT \
                 CONFIRMED)",
                cluster.kubelet
            ))
        })?,
    };
    let message = format!("image pull failed: {waiting}");
    if kr.warning_events == WarningEvents::Printed {
        for e in &events {
            t.warningln(&format!("Event retrieved from the cluster: {e}"));
        }
    }
    if let Some(w) = kr
        .pull_wording
        .warning(&container.image, &container.name, policy, &message)
    {
        t.warningln(&w);
    }
    if sections {
        t.section_end("prepare_script", clock);
    }
    let mut error = kr.pull_wording.error(&container.image, &container.name, &message);
    if kr.default_strategy == Strategy::Attach {
        error = format!("waiting for pod running: {error}");
    }
    if let Some(url) = kr.shell_profile_url {
        error = format!("prepare environment: {error}. Check {url} for more information");
    }
    Ok(Prepared {
        build_image_line: None,
        script_failure: super::ScriptFailure::KubernetesCommandTerminated,
        outcome: Err(PullError {
            message: error,
            // A BuildError (util.go:171-178), which setTraceStatus did not see through the
            // `prepare environment` wrapper before 14.1.
            build_error: !kr.wrapped_error_is_system_failure,
            system_failure_reason: false,
            unmodelled: None,
        }),
        services: Vec::new(),
        ignored,
    })
}

/// The job's services as the build container reaches them: containers of the same pod, on
/// 127.0.0.1 under the names the runner puts in the pod's hostAliases (createServicesHostAlias,
/// executors/kubernetes/host_aliases.go, the same from v13.8.0 to v17.11.0): the names it derives
/// from each service's image only when they are valid DNS-1123 subdomains (so a Dependency Proxy
/// path, with its `_`, gives none), then the job's aliases, which must be. Before 13.8 the
/// runner sent a host alias even with no names, which regsim does not model.
fn pod_services(world: &World, payload: &JobPayload) -> Result<Vec<StartedService>, NotModelled> {
    let release = &world.runner.release;
    let mut out = Vec::new();
    for s in &payload.services {
        if world.runner.version < semver::Version::new(13, 8, 0) {
            return Err(NotModelled::new(
                "a service in a kubernetes build pod before gitlab-runner 13.8 (its host alias without names)",
            ));
        }
        let service = split_name_and_version(&crate::expand::expand(&s.name, |v| payload.variable(v)));
        let derived = link_names(&service, None, release.service_aliases_split);
        let all = link_names(&service, s.alias.as_deref(), release.service_aliases_split);
        let mut links: Vec<String> = derived.iter().filter(|n| dns_1123_subdomain(n)).cloned().collect();
        for alias in all.iter().skip(derived.len()) {
            if !dns_1123_subdomain(alias) {
                return Err(NotModelled::new(format!(
                    "service alias `{alias}` is not a DNS-1123 subdomain: the runner's invalidHostAliasDNSError is not modelled"
                )));
            }
            links.push(alias.clone());
        }
        out.push(StartedService {
            image_name: service.image_name,
            version: service.version,
            links,
        });
    }
    Ok(out)
}

/// Kubernetes' `IsDNS1123Subdomain`: at most 253 characters, dot-separated labels of lowercase
/// letters, digits and `-` that start and end with a letter or digit.
fn dns_1123_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The containers whose images the kubelet pulls: `build`, then `svc-0`, `svc-1`… (the helper's
/// image is taken as present on the node).
fn pod_containers(payload: &JobPayload) -> Result<Vec<PodContainer>, NotModelled> {
    let mut containers = vec![PodContainer {
        name: "build".into(),
        image: crate::expand::expanded_image(payload),
    }];
    for (i, s) in payload.services.iter().enumerate() {
        containers.push(PodContainer {
            name: format!("svc-{i}"),
            image: crate::expand::expand(&s.name, |v| payload.variable(v)),
        });
    }
    for c in &containers {
        if regsim_wire::reference::Reference::parse(&c.image).is_ok_and(|r| r.domain == "docker.io") {
            return Err(NotModelled::new(format!(
                "`{}` on the kubernetes executor: Docker Hub names and the kubelet's index.docker.io fallback are not \
                 modelled",
                c.image
            )));
        }
    }
    Ok(containers)
}

/// One container's image as the kubelet asks for it, and the auth of each call it makes.
pub type CriCalls = (String, Vec<Option<regsim_clients::containerd::CriAuth>>);

/// The kubelet's CRI `PullImage` calls for the build pod's images, container by container, with
/// the auth its keyring gives each (the conformance suite makes the same calls to the real
/// containerd). `Err` where the pull secrets cannot be told.
pub fn cri_requests(world: &World, payload: &JobPayload) -> Result<Vec<CriCalls>, NotModelled> {
    let k = world.runner.kubernetes.as_ref().ok_or("not a kubernetes runner")?;
    let cluster = world.cluster.as_ref().ok_or("not a kubernetes runner")?;
    let kr = release(&world.runner.version)?;
    let (secrets, _) = pull_secrets(world, payload, k, cluster, kr.payload_only_secret)?;
    let keyring = match DockerKeyring::from_secrets(&secrets)? {
        Ok(k) => k,
        Err(e) => return Err(NotModelled::new(format!("every pull fails before a CRI call: {e}"))),
    };
    pod_containers(payload)?
        .iter()
        .map(|c| regsim_clients::kubelet::cri_attempts(&c.image, &keyring))
        .collect()
}

/// The pod's Warning events when the failing poll lands: for each failed container, the kubelet's
/// `Failed to pull image %q: %v` and `Error: ErrImagePull`, and `Error: ImagePullBackOff` once it
/// backs off (its `Back-off pulling image` event is Normal, not listed).
fn warning_events(failures: &[(&PodContainer, String)], sees: WaitingReason) -> Vec<String> {
    let mut out = Vec::new();
    for (c, message) in failures {
        out.push(format!("Failed to pull image {:?}: {message}", c.image));
        out.push("Error: ErrImagePull".to_string());
    }
    if sees == WaitingReason::ImagePullBackOff {
        out.extend(failures.iter().map(|_| "Error: ImagePullBackOff".to_string()));
    }
    out
}

/// The pod's `imagePullSecrets`: config.toml's `image_pull_secrets` (each a Secret of the
/// namespace), then the job's own secret from `ResolveConfigs` when it has entries
/// (`prepareImagePullSecrets`, v16.2.0 kubernetes.go:1671-1683).
/// A pull secret's entries: key → `.dockerconfigjson` entry.
type SecretEntries = Vec<(String, serde_json::Value)>;

fn pull_secrets(
    world: &World,
    payload: &JobPayload,
    k: &RunnerKubernetes,
    cluster: &Cluster,
    payload_only: bool,
) -> Result<(Vec<SecretEntries>, Vec<Ignored>), NotModelled> {
    let mut secrets = Vec::new();
    for name in &k.image_pull_secrets {
        let Some(s) = cluster.secrets.get(name) else {
            return Err(NotModelled::new(format!(
                "image_pull_secrets names `{name}`, which the namespace does not have: whether the runner waits for it \
                 (resource_availability_check_max_attempts) or the kubelet pulls without it is not confirmed"
            )));
        };
        secrets.push(s.clone());
    }
    if payload_only {
        // v13.0.0 kubernetes.go:704-740: the job payload's registry credentials, keyed by their
        // URL as written; DOCKER_AUTH_CONFIG and the runner user's config.json are not read.
        let entries: SecretEntries = payload
            .credentials
            .iter()
            .filter(|c| c.kind == regsim_wire::job_api::CredentialKind::Registry)
            .map(|c| {
                (
                    c.url.clone(),
                    serde_json::json!({"username": c.username, "password": c.password}),
                )
            })
            .collect();
        let mut ignored = Vec::new();
        if crate::credentials::docker_auth_config(payload, &world.runner).is_some() {
            ignored.push(Ignored {
                source: crate::credentials::SOURCE_VARIABLE.into(),
                why: format!(
                    "the kubernetes executor of gitlab-runner {} builds the pod's pull secret from the job payload only",
                    world.runner.version
                ),
            });
        }
        if !entries.is_empty() {
            secrets.push(entries);
        }
        return Ok((secrets, ignored));
    }
    let docker_auth_config = crate::credentials::docker_auth_config(payload, &world.runner);
    let helpers = Installed::install(&world.runner.credential_helpers).map_err(|e| {
        NotModelled::new(format!(
            "the runner host's credential helpers could not be installed: {e}"
        ))
    })?;
    let host_path = format!("{}/.docker/config.json", world.runner.home.trim_end_matches('/'));
    let inputs = Inputs {
        docker_auth_config: docker_auth_config.as_deref(),
        host_config: world.runner.docker_config.as_deref().map(|c| (host_path.as_str(), c)),
        payload: &payload.credentials,
        helpers: &helpers,
    };
    let (job_secret, ignored) = resolve_configs(&inputs, &world.runner.release)?;
    if !job_secret.is_empty() {
        secrets.push(
            job_secret
                .into_iter()
                .map(|(key, c)| (key, serde_json::json!({"username": c.username, "password": c.password})))
                .collect(),
        );
    }
    Ok((secrets, ignored))
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_alias_names_are_dns_1123_subdomains() {
        use super::dns_1123_subdomain as ok;
        assert!(ok("docker") && ok("gitlab.example.com-my-group-containers-docker") && ok("a-1.b"));
        assert!(!ok("gitlab.example.com-my-group-dependency_proxy-containers-docker"));
        assert!(!ok("gitlab.example.com__my-group__docker") && !ok("Docker") && !ok("-a") && !ok("a.") && !ok(""));
        assert!(!ok(&"a".repeat(254)));
    }

    #[test]
    fn events_follow_the_kubelet() {
        let c = super::PodContainer {
            name: "build".into(),
            image: "r/a:1".into(),
        };
        let e = super::warning_events(
            &[(&c, "m".into())],
            regsim_model::world::WaitingReason::ImagePullBackOff,
        );
        assert_eq!(
            e,
            [
                "Failed to pull image \"r/a:1\": m",
                "Error: ErrImagePull",
                "Error: ImagePullBackOff"
            ]
        );
    }
}
