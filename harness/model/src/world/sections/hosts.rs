//! `runner:` and `docker:`: the runner host (release, executor, name and token, pull policies,
//! its config.json) and the Docker engine on it (release, image store, platform).

use super::Ctx;
use super::job::pull_policies;
use crate::scenario::{Scenario, ScenarioError};
use crate::versions::{self, docker as dv, runner as rv};
use crate::world::{Authority, DaemonTls, Derived, DockerHost, Executor, Job, Overrides, RunnerHost};
use regsim_wire::job_api::PullPolicy;
use regsim_wire::platform::Platform;

pub(super) fn runner(
    ctx: &Ctx<'_>,
    s: &Scenario,
    overrides: &Overrides,
    job: &Job,
) -> Result<RunnerHost, ScenarioError> {
    let version = ctx.version_or(&overrides.runner, "runner.version", &s.runner.version)?;
    let executor = Executor::parse(&s.runner.executor).ok_or_else(|| {
        ctx.err(
            "runner.executor",
            format!(
                "executor `{}` is not modelled (docker, docker+machine, docker-autoscaler, kubernetes and shell are)",
                s.runner.executor
            ),
        )
    })?;
    let release = rv::release(&version).map_err(|m| ctx.err("runner.version", m.reason))?;
    if executor == Executor::DockerAutoscaler && release.autoscaler_dial.is_none() {
        return Err(ctx.err(
            "runner.executor",
            format!("docker-autoscaler exists from gitlab-runner 15.9.0 (this is {version})"),
        ));
    }
    if s.runner.instance_id.is_some() && executor != Executor::DockerAutoscaler {
        return Err(ctx.err(
            "runner.instance_id",
            "an instance id belongs to the docker-autoscaler executor".to_string(),
        ));
    }
    if s.runner.kubernetes.is_some() && executor != Executor::Kubernetes {
        return Err(ctx.err(
            "runner.kubernetes",
            "[runners.kubernetes] belongs to the kubernetes executor".to_string(),
        ));
    }
    match (executor, &s.docker, &s.kubernetes) {
        (Executor::Kubernetes, Some(_), _) => {
            return Err(ctx.err(
                "docker",
                "the kubernetes executor pulls through the node's kubelet and containerd, not a Docker daemon: \
                 describe the node in `kubernetes:`"
                    .to_string(),
            ));
        }
        (Executor::Kubernetes, None, None) => {
            return Err(ctx.err(
                "runner.executor",
                "the kubernetes executor needs the node: `kubernetes: {version: KUBELET, containerd: VERSION}`"
                    .to_string(),
            ));
        }
        (Executor::Kubernetes, None, Some(_)) => {
            crate::versions::executors::kubernetes::release(&version)
                .map_err(|m| ctx.err("runner.version", m.reason))?;
        }
        (_, _, Some(_)) => {
            return Err(ctx.err(
                "kubernetes",
                format!(
                    "a cluster belongs to the kubernetes executor (this runner's is {})",
                    executor.as_str()
                ),
            ));
        }
        (_, None, None) => {
            // Located at the runner, whose executor asks for the section that is missing.
            return Err(ctx.err(
                "runner",
                format!(
                    "missing field `docker`: the {} executor needs its Docker daemon (`docker: {{version: …}}`)",
                    executor.as_str()
                ),
            ));
        }
        (_, Some(_), None) => {}
    }
    if !s.runner.feature_flags.is_empty() && version < crate::versions::feature_flags::CONFIG_SINCE {
        return Err(ctx.err(
            "runner.feature_flags",
            format!("[runners.feature_flags] is read from gitlab-runner 13.11.0 (this is {version}): set them as job variables"),
        ));
    }
    if release.revision.is_none() {
        return Err(ctx.err(
            "runner.version",
            format!("gitlab-runner {version} is not a release tag in data/runner_revisions.tsv"),
        ));
    }
    // What the release can do with the pull policies the scenario asks for (gitlab-runner.md §4).
    if job.image_pull_policy.is_some() && version < versions::v(15, 1, 0) {
        return Err(ctx.err(
            "job.image.pull_policy",
            format!("`pull_policy:` in .gitlab-ci.yml needs gitlab-runner 15.1 (this is {version})"),
        ));
    }
    let pull_policy = pull_policies(ctx, "runner.pull_policy", s.runner.pull_policy.as_ref())?;
    let allowed_pull_policies = pull_policies(
        ctx,
        "runner.allowed_pull_policies",
        s.runner.allowed_pull_policies.as_ref(),
    )?;
    if allowed_pull_policies.is_some() && version < versions::v(15, 1, 0) {
        return Err(ctx.err(
            "runner.allowed_pull_policies",
            format!("`allowed_pull_policies` needs gitlab-runner 15.1 (this is {version})"),
        ));
    }
    let runner_policies = pull_policy.clone().unwrap_or_default();
    if runner_policies.len() > 1 && !release.pull_policy_loop {
        return Err(ctx.err(
            "runner.pull_policy",
            format!("several pull policies need gitlab-runner 13.8 (this is {version})"),
        ));
    }
    let mut all_policies = job.image_pull_policy.iter().flatten().chain(runner_policies.iter());
    if all_policies.any(|p| *p == PullPolicy::Never) && release.inspect_call_site.is_none() {
        return Err(ctx.err(
            "runner.version",
            format!(
                "pull policy `never` on gitlab-runner {version}: its inspect call site is not tabulated (gitlab-runner.md §1.3 starts at 13.9)"
            ),
        ));
    }
    let system_id = match &s.runner.system_id {
        None => None,
        // common/system_id_state.go:48 (v15.8.0): a stored ID is used only in this shape.
        Some(id)
            if regex::Regex::new("^[sr]_[0-9a-zA-Z]{12}$")
                .expect("constant")
                .is_match(id) =>
        {
            // Releases before 15.8 print no system ID: the stored one is simply not shown.
            Some(id.clone())
        }
        Some(id) => {
            return Err(ctx.err(
                "runner.system_id",
                format!("`{id}`: the runner keeps a stored ID only if it matches ^[sr]_[0-9a-zA-Z]{{12}}$"),
            ));
        }
    };
    Ok(RunnerHost {
        version,
        release,
        executor,
        name: s.runner.name.clone().unwrap_or_else(|| "docker-runner".into()),
        token: s
            .runner
            .token
            .clone()
            .unwrap_or_else(|| "glrt-t1_regsimRunnerTok3n".into()),
        system_id,
        machine_id: s
            .runner
            .machine_id
            .clone()
            .or_else(|| Some("6a0f3d1bd3c14e7c9c6a1b2f4e8d9a01".into())),
        pull_policy,
        allowed_pull_policies,
        docker_config: s.runner.docker_config.clone(),
        home: s.runner.home.clone().unwrap_or_else(|| match executor {
            // A package install runs shell jobs as its own user.
            Executor::Shell => crate::versions::executors::shell::DEFAULT_HOME.into(),
            _ => "/root".into(),
        }),
        dns: s.runner.dns.clone(),
        volumes: s.runner.volumes.clone(),
        environment: environment(ctx, &s.runner.environment)?,
        credential_helpers: credential_helpers(ctx, &s.runner.credential_helpers)?,
        instance_id: s
            .runner
            .instance_id
            .clone()
            .unwrap_or_else(|| "i-0a1b2c3d4e5f60718".into()),
        feature_flags: s.runner.feature_flags.clone(),
        kubernetes: match executor {
            Executor::Kubernetes => Some(runner_kubernetes(ctx, s.runner.kubernetes.as_ref())?),
            _ => None,
        },
    })
}

/// Defaults as config.toml's: namespace `default`, poll_timeout 180 s
/// (common/consts.go `KubernetesPollTimeout`, runner-executors-credentials.md §5.1).
fn runner_kubernetes(
    ctx: &Ctx<'_>,
    k: Option<&crate::scenario::RunnerKubernetes>,
) -> Result<crate::world::RunnerKubernetes, ScenarioError> {
    use crate::world::WaitingReason;
    let default = crate::scenario::RunnerKubernetes {
        namespace: None,
        image_pull_secrets: Vec::new(),
        poll_timeout: None,
        pod_suffix: None,
        sees: None,
        pending_polls: None,
        privileged: false,
    };
    let k = k.unwrap_or(&default);
    let sees = match k.sees.as_deref() {
        None | Some("ErrImagePull") => WaitingReason::ErrImagePull,
        Some("ImagePullBackOff") => WaitingReason::ImagePullBackOff,
        Some(other) => {
            return Err(ctx.err(
                "runner.kubernetes.sees",
                format!("`{other}`: expected ErrImagePull or ImagePullBackOff"),
            ));
        }
    };
    // The pod name's random suffix: the runner's 8 characters (16.2 →) or the apiserver's 5.
    let pod_suffix = k.pod_suffix.clone();
    if let Some(p) = &pod_suffix
        && !((p.len() == 5 || p.len() == 8) && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    {
        return Err(ctx.err(
            "runner.kubernetes.pod_suffix",
            format!("`{p}`: the runner appends 8 characters of [a-z0-9] (16.2 →), the apiserver 5 (before)"),
        ));
    }
    let namespace = k
        .namespace
        .clone()
        .unwrap_or_else(|| crate::versions::executors::kubernetes::DEFAULT_NAMESPACE.into());
    // A DNS-1123 label, as the apiserver checks namespace names.
    let label = regex::Regex::new("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$").expect("constant pattern");
    if !label.is_match(&namespace) {
        return Err(ctx.err(
            "runner.kubernetes.namespace",
            format!("`{namespace}` is not a DNS-1123 label, which namespace names are"),
        ));
    }
    let poll_timeout = k.poll_timeout.unwrap_or(180);
    if poll_timeout == 0 {
        return Err(ctx.err(
            "runner.kubernetes.poll_timeout",
            "0: the runner would not wait for the pod at all".to_string(),
        ));
    }
    let pending_polls = k.pending_polls.unwrap_or(1);
    // 61 polls at most with the default poll_timeout; more is a timeout, which is not modelled.
    if u64::from(pending_polls) * crate::versions::executors::kubernetes::POLL_INTERVAL_SECS >= poll_timeout {
        return Err(ctx.err(
            "runner.kubernetes.pending_polls",
            format!(
                "{pending_polls} polls of 3 s reach poll_timeout ({poll_timeout} s): a timed-out wait is not modelled"
            ),
        ));
    }
    Ok(crate::world::RunnerKubernetes {
        namespace_written: k.namespace.is_some(),
        pending_polls,
        namespace,
        image_pull_secrets: k.image_pull_secrets.clone(),
        poll_timeout,
        pod_suffix,
        sees,
        privileged: k.privileged,
    })
}

/// `kubernetes:`: the node's kubelet and containerd (each refused unless its release is modelled)
/// and the namespace's Secrets, each a `.dockerconfigjson` with an `auths` object.
pub(super) fn cluster(ctx: &Ctx<'_>, s: &Scenario) -> Result<Option<crate::world::Cluster>, ScenarioError> {
    let Some(k) = &s.kubernetes else {
        return Ok(None);
    };
    let kubelet = ctx.version("kubernetes.version", &k.version)?;
    if crate::versions::kubelet::err_image_pull(&kubelet, "Unknown", "").is_none() {
        return Err(ctx.err("kubernetes.version", format!("Kubernetes {kubelet} is not tabulated")));
    }
    let containerd_version = ctx.version("kubernetes.containerd", &k.containerd)?;
    let containerd = crate::versions::containerd::profile(&containerd_version)
        .map_err(|m| ctx.err("kubernetes.containerd", m.reason))?;
    let mut secrets = std::collections::BTreeMap::new();
    for (name, doc) in &k.secrets {
        let field = format!("kubernetes.secrets.{name}");
        let auths = serde_json::from_str::<serde_json::Value>(doc)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|v| match v.get("auths") {
                Some(serde_json::Value::Object(m)) => Ok(m.clone().into_iter().collect::<Vec<_>>()),
                _ => Err("a .dockerconfigjson needs an `auths` object".to_string()),
            })
            .map_err(|m| ctx.err(&field, m))?;
        secrets.insert(name.clone(), auths);
    }
    Ok(Some(crate::world::Cluster {
        kubelet,
        containerd,
        secrets,
        platform: host_platform(ctx, "kubernetes.platform", k.platform.as_deref())?,
        dns: k
            .dns
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.parse::<std::net::IpAddr>()
                    .map(|_| a.clone())
                    .map_err(|_| ctx.err(&format!("kubernetes.dns[{i}]"), format!("`{a}` is not an IP address")))
            })
            .collect::<Result<_, _>>()?,
    }))
}

/// A host's platform (`os/arch[/variant]`), linux/amd64 when the scenario leaves it out.
fn host_platform(ctx: &Ctx<'_>, field: &str, written: Option<&str>) -> Result<Platform, ScenarioError> {
    match written {
        None => Ok(Platform::default()),
        Some(p) => {
            Platform::of_host(p).ok_or_else(|| ctx.err(field, format!("`{p}`: expected os/arch or os/arch/variant")))
        }
    }
}

fn environment(ctx: &Ctx<'_>, entries: &[String]) -> Result<Vec<(String, String)>, ScenarioError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| match e.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ctx.err(
                &format!("runner.environment[{i}]"),
                "expected NAME=value, as config.toml writes it".to_string(),
            )),
        })
        .collect()
}

fn credential_helpers(
    ctx: &Ctx<'_>,
    specs: &std::collections::BTreeMap<String, crate::scenario::CredentialHelperSpec>,
) -> Result<std::collections::BTreeMap<String, crate::world::CredentialHelper>, ScenarioError> {
    use crate::world::CredentialHelper;
    let mut out = std::collections::BTreeMap::new();
    for (name, spec) in specs {
        let field = format!("runner.credential_helpers.{name}");
        // docker/cli and the runner refuse helper names that are paths (13.5 →: "path traversal").
        if name.is_empty() || name.contains('/') || name.contains(char::is_whitespace) {
            return Err(ctx.err(
                &field,
                format!("`{name}`: a helper is named by the NAME of docker-credential-NAME"),
            ));
        }
        let helper = match (&spec.fails, spec.credentials.is_empty()) {
            (Some(_), false) => {
                return Err(ctx.err(
                    &field,
                    "a helper either fails or answers credentials, not both".to_string(),
                ));
            }
            (Some(text), true) => CredentialHelper::Fails(text.clone()),
            (None, _) => {
                let mut answers = std::collections::BTreeMap::new();
                for (server, pair) in &spec.credentials {
                    let Some((user, secret)) = pair.split_once(':') else {
                        return Err(ctx.err(
                            &format!("{field}.credentials.{server}"),
                            "expected user:secret".to_string(),
                        ));
                    };
                    answers.insert(server.clone(), (user.to_string(), secret.to_string()));
                }
                CredentialHelper::Answers(answers)
            }
        };
        out.insert(name.clone(), helper);
    }
    Ok(out)
}

/// The longest pull the runner can time: it prints `int(time.Since(started).Seconds())`
/// (gitlab-runner.md §1.2), and a Go `time.Duration` holds at most 2^63−1 nanoseconds.
pub const MAX_PULL_SECONDS: u64 = i64::MAX as u64 / 1_000_000_000;

fn pull_seconds(ctx: &Ctx<'_>, written: u64) -> Result<u64, ScenarioError> {
    if written > MAX_PULL_SECONDS {
        return Err(ctx.err(
            "docker.pull_seconds",
            format!(
                "{written}: the runner measures a pull as a Go time.Duration, which holds at most \
                 {MAX_PULL_SECONDS} seconds (about 292 years)"
            ),
        ));
    }
    Ok(written)
}

pub(super) fn docker(ctx: &Ctx<'_>, s: &Scenario, overrides: &Overrides) -> Result<DockerHost, ScenarioError> {
    // A kubernetes world (checked by `runner`) has no daemon that takes part: the default one.
    let unused = crate::scenario::Docker::unused();
    let d = s.docker.as_ref().unwrap_or(&unused);
    let overrides = if s.docker.is_some() {
        overrides
    } else {
        &Overrides::default()
    };
    let version = ctx.version_or(&overrides.docker, "docker.version", &d.version)?;
    let store = match d.image_store.as_deref() {
        Some("graphdriver") => Derived::explicit(dv::ImageStore::Graphdriver),
        Some("containerd") => Derived::explicit(dv::ImageStore::Containerd),
        Some(other) => {
            return Err(ctx.err(
                "docker.image_store",
                format!("`{other}`: expected graphdriver or containerd"),
            ));
        }
        None => Derived::by_rule(
            dv::default_image_store(&version),
            "Docker 29 uses containerd on fresh installs, graphdriver before (docker-errors.md §3)",
        ),
    };
    let profile = dv::profile(&version, store.value).map_err(|m| ctx.err("docker.version", m.reason))?;
    let platform = host_platform(ctx, "docker.platform", d.platform.as_deref())?;
    Ok(DockerHost {
        version,
        pull_seconds: pull_seconds(ctx, d.pull_seconds)?,
        platform,
        store,
        profile,
        tls: daemon_tls(ctx, d)?,
    })
}

/// `docker.certs_d`, `docker.insecure_registries`, `docker.ca_in_system_store`: each entry a
/// `host[:port]` (a CIDR range in `insecure_registries` is not modelled).
fn daemon_tls(ctx: &Ctx<'_>, d: &crate::scenario::Docker) -> Result<DaemonTls, ScenarioError> {
    let check = |field: &str, list: &[String]| -> Result<Vec<String>, ScenarioError> {
        list.iter()
            .enumerate()
            .map(|(i, e)| {
                let field = format!("{field}[{i}]");
                if e.contains("://") {
                    return Err(ctx.err(&field, format!("`{e}`: write host[:port], without a scheme")));
                }
                if e.contains('/') {
                    return Err(ctx.err(
                        &field,
                        format!("`{e}`: CIDR ranges are not modelled; write host[:port]"),
                    ));
                }
                Authority::parse(e)
                    .map(|a| a.to_string())
                    .map_err(|m| ctx.err(&field, m))
            })
            .collect()
    };
    Ok(DaemonTls {
        certs_d: check("docker.certs_d", &d.certs_d)?,
        insecure_registries: check("docker.insecure_registries", &d.insecure_registries)?,
        ca_in_system_store: d.ca_in_system_store,
    })
}
