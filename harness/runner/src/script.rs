//! The job's `script:` lines that drive Docker: the job image's Docker CLI (its version in
//! `versions::docker_cli`) talking to the runner host's daemon through the mounted socket. The
//! runner echoes each line as `$ line`; what follows is the CLI's output, stdout and stderr in the
//! order written (`docker_cli`). `sbt docker:publish` runs sbt-native-packager's build and push
//! (`sbt`). Other lines are refused as not simulated.

use crate::docker_host::{CliTls, DaemonAt, resolve};
use crate::expand::expand;
use crate::services::StartedService;
use regsim_clients::containers_image::real::RealTools;
use regsim_clients::containers_image::{SimulatedTools, tool_of};
use regsim_clients::docker_cli::{DockerCli, flag, positional};
use regsim_clients::engine::Engine;
use regsim_clients::sbt::{self, DockerPublish};
use regsim_model::versions::containers_tools::Tool;
use regsim_wire::NotModelled;
use regsim_wire::job_api::JobPayload;

/// What the script printed, and whether it got to the end.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScriptLog {
    /// Which daemon the job's Docker CLI talked to, and why.
    pub daemon: String,
    /// What the job page shows: each line echoed as `$ line`, then the CLI's output.
    pub text: String,
    /// The same bytes as the runner's trace carries them: the echo lines in bold green
    /// (`BashWriter.Noticef("$ %s", …)`, shells/abstract.go writeCommands, read at v11.7.0,
    /// v16.2.0 and v19.3.0), the CLI's output as written.
    pub raw: String,
    /// The exit code of the first failing command, if one failed.
    pub failed_with: Option<i32>,
}

use crate::shell::{REDIRECT, words};

/// The images the script's `docker tag` / `docker build -t` lines and sbt's `dockerAlias`
/// create (a comparison removes them afterwards).
pub fn created_images(payload: &JobPayload, job: &regsim_model::world::Job) -> Vec<String> {
    let lookup = |k: &str| payload.variable(k);
    let mut names: Vec<String> = job
        .script
        .iter()
        .filter_map(|l| words(l, &lookup).ok())
        .filter_map(|w| match w.as_slice() {
            [d, t, args @ ..] if d == "docker" && t == "tag" => positional(args, &[]).get(1).cloned(),
            [d, b, args @ ..] if d == "docker" && b == "build" => flag(args, "-t", "--tag"),
            [d, p, args @ ..] if d == "docker" && p == "pull" => positional(args, &[]).first().cloned(),
            _ => None,
        })
        .collect();
    if let Some(sbt) = &job.sbt_native_packager {
        names.push(expand(&sbt.alias, lookup));
    }
    names
}

/// The config.json the job's Docker CLI starts from.
pub struct CliHome {
    pub config_path: String,
    /// Logins already in it: server → (user, password).
    pub logins: std::collections::BTreeMap<String, (String, String)>,
}

impl CliHome {
    /// A job container's: root's default location, empty.
    pub fn job_image() -> CliHome {
        CliHome {
            config_path: "/root/.docker/config.json".into(),
            logins: Default::default(),
        }
    }
}

/// What surrounds the job's container: its started services, the DNS servers it asks for other
/// names, and the runner's volumes it shares with them.
pub struct Around<'a> {
    pub services: &'a [StartedService],
    pub dns: &'a [String],
    pub volumes: &'a [String],
    /// No container at all: a shell runner's job runs the host's own CLI against the host's
    /// own socket.
    pub on_host: bool,
    /// A kubernetes build pod: its services are the pod's containers, and no Docker socket is
    /// mounted unless a volume says so. `Some(privileged)`: `[runners.kubernetes] privileged`.
    pub in_pod: Option<bool>,
}

/// The job's podman and buildah: simulated, or the real ones.
enum Tools {
    Simulated(Box<SimulatedTools>),
    Real(RealTools),
}

/// The job image's Docker CLI and the daemon DOCKER_HOST leads it to (in words).
fn docker_cli<'a>(
    engine: &'a Engine,
    client: &'a regsim_model::versions::docker_cli::ClientProfile,
    payload: &JobPayload,
    around: &Around<'_>,
) -> Result<(DockerCli<'a>, String), NotModelled> {
    let tls = CliTls {
        verify: payload.variable("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()),
        // The runner expands references between variables before the job sees them.
        cert_path: payload
            .variable("DOCKER_CERT_PATH")
            .map(|v| expand(&v, |k: &str| payload.variable(k))),
        volumes: around.volumes.to_vec(),
    };
    let daemon = resolve(
        payload.variable("DOCKER_HOST").as_deref(),
        payload.variable("DOCKER_TLS_CERTDIR").as_deref(),
        &tls,
        around.services,
        around.dns,
    )?;
    Ok(match daemon {
        DaemonAt::HostSocket if around.in_pod.is_some() => {
            return Err(NotModelled::new(
                "DOCKER_HOST unset in a kubernetes build pod: the node's socket is there only through a host_path \
                 volume, which regsim does not model",
            ));
        }
        // A dind container in the pod starts only when privileged; what the job sees when it does
        // not (the service crash-looping) is not modelled, nor the TLS volume the pod would need.
        DaemonAt::Dind { .. } | DaemonAt::DindTlsLegFails { .. } if around.in_pod == Some(false) => {
            return Err(NotModelled::new(
                "a dind service in an unprivileged kubernetes build pod ([runners.kubernetes] privileged unset): \
                 its daemon does not start, and what the job then sees is not modelled",
            ));
        }
        DaemonAt::Dind { tls: true, .. } | DaemonAt::DindTlsLegFails { .. } if around.in_pod.is_some() => {
            return Err(NotModelled::new(
                "a dind service with TLS in a kubernetes build pod: the client certificates reach the build container \
                 only through a volume of the pod, which regsim does not model",
            ));
        }
        DaemonAt::HostSocket => (
            DockerCli::new(engine, client),
            if around.on_host {
                "the runner host's Docker CLI talks to the host's daemon (shell executor, DOCKER_HOST unset: its own socket)"
            } else {
                "the job's Docker CLI talks to the runner host's daemon (DOCKER_HOST unset: the mounted socket)"
            }
            .to_string(),
        ),
        DaemonAt::Dind { version, service, .. } => (
            DockerCli::new_owned(engine.dind(&version)?, client),
            format!("the job's Docker CLI talks to the Docker {version} daemon of service {service} (DOCKER_HOST)"),
        ),
        DaemonAt::DindTlsLegFails { service, failure } => (
            DockerCli::new(engine, client).tls_leg_fails(failure.clone()),
            format!(
                "the job's Docker CLI does not get through to service {service}, which listens with TLS on 2376: {}",
                match failure {
                    regsim_model::versions::docker_cli::TlsLegFailure::PlainHttpToTls =>
                        "DOCKER_TLS_VERIFY is not set, so the CLI speaks plain HTTP, and the daemon's TLS listener \
                         answers 400 and closes (the usual text; the real CLI sometimes reads the reset first: \
                         `read tcp …: connection reset by peer`)"
                            .to_string(),
                    regsim_model::versions::docker_cli::TlsLegFailure::MissingCa { ca_path } => format!(
                        "{ca_path} is not in the job's container (the service's client certificates reach it only through a runner volume on its DOCKER_TLS_CERTDIR/client)"
                    ),
                }
            ),
        ),
        DaemonAt::Unreachable { authority, failure } => (
            DockerCli::new(engine, client).unreachable(authority.clone(), failure.clone()),
            format!(
                "the job's Docker CLI reaches no daemon at {authority} (DOCKER_HOST): {}",
                match failure {
                    regsim_model::versions::docker_cli::ConnectFailure::NoSuchHost { .. } if around.in_pod.is_some() =>
                        "not a host alias of the build pod, so the cluster DNS is asked",
                    regsim_model::versions::docker_cli::ConnectFailure::NoSuchHost { .. } => "not a service link",
                    regsim_model::versions::docker_cli::ConnectFailure::Refused { .. } =>
                        "the service's daemon listens on the other port (2375 without TLS, 2376 with)",
                }
            ),
        ),
    })
}

/// Runs the script's lines; `Err` when a line needs behaviour regsim does not model.
pub async fn run_script(
    engine: &Engine,
    payload: &JobPayload,
    job: &regsim_model::world::Job,
    around: &Around<'_>,
    home: &CliHome,
    env_auth_config: Option<String>,
) -> Result<ScriptLog, NotModelled> {
    let lookup = |k: &str| payload.variable(k);
    let (cli, daemon) = match &job.docker_client {
        Some(client) => {
            let (cli, daemon) = docker_cli(engine, client, payload, around)?;
            (Some(cli), daemon)
        }
        None => (None, "the job image has no Docker CLI".to_string()),
    };
    let mut cli = cli.map(|c| {
        c.with_config(home.config_path.clone(), home.logins.clone())
            .with_env_auth_config(env_auth_config)
    });
    // podman and buildah, made at their first line: simulated beside a simulated engine, the
    // real tools beside a real daemon (the comparison runs both).
    let mut tools: Option<Tools> = None;
    // The files the script writes (`echo … > FILE`), as the job's own programs read them.
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    let mut text = String::new();
    let mut raw = String::new();
    for line in &job.script {
        text.push_str(&format!("$ {line}\n"));
        raw.push_str(&format!("\x1b[32;1m$ {line}\x1b[0;m\n"));
        let before = text.len();
        let located = |m: NotModelled| NotModelled::new(format!("script line `{line}`: {}", m.reason));
        let w = words(line, &lookup).map_err(|m| located(m.into()))?;
        let code = match w.as_slice() {
            [docker, cmd, args @ ..] if docker == "docker" => {
                let Some(cli) = cli.as_mut() else {
                    return Err(located(
                        "the script runs docker, but the scenario gives no `job.docker_client`".into(),
                    ));
                };
                let run = match cmd.as_str() {
                    "info" if args.is_empty() => cli.info().await,
                    "login" => cli.login(args).await,
                    "build" => match &job.dockerfile {
                        Some(dockerfile) => cli.build(args, dockerfile).await,
                        None => Err("the scenario gives no `job.dockerfile`".into()),
                    },
                    "tag" => cli.tag(args).await,
                    "push" => cli.push(args).await,
                    "pull" => cli.pull(args).await,
                    other => Err(format!("`docker {other}` is not simulated").into()),
                }
                .map_err(located)?;
                text.push_str(&run.text());
                run.code
            }
            // `unset NAME`: only DOCKER_AUTH_CONFIG changes what the simulated CLI does.
            [unset, names @ ..] if unset == "unset" && !names.is_empty() => {
                if names.iter().any(|n| n == "DOCKER_AUTH_CONFIG")
                    && let Some(cli) = cli.as_mut()
                {
                    cli.unset_env_auth_config();
                }
                0
            }
            [sbt, tasks @ ..] if sbt == "sbt" => {
                let Some(plugin) = &job.sbt_native_packager else {
                    return Err(located("the scenario gives no `job.sbt_native_packager`".into()));
                };
                if tasks.len() != 1 || !sbt::is_publish_task(&tasks[0]) {
                    return Err(located("only `sbt docker:publish` is simulated".into()));
                }
                let task = DockerPublish {
                    plugin: &plugin.profile,
                    alias: expand(&plugin.alias, lookup),
                    dockerfile: format!("FROM {}\n", expand(&plugin.base_image, lookup)),
                };
                let Some(cli) = cli.as_mut() else {
                    return Err(located("sbt's DockerPlugin needs `job.docker_client`".into()));
                };
                sbt::docker_publish(cli, &task, &mut text).await.map_err(located)?
            }
            [mkdir, p, dirs @ ..] if mkdir == "mkdir" && p == "-p" && !dirs.is_empty() => 0,
            [echo, rest @ ..] if echo == "echo" && rest.len() >= 2 && rest[rest.len() - 2] == REDIRECT => {
                let path = rest[rest.len() - 1].clone();
                let args = &rest[..rest.len() - 2];
                let (newline, args) = match args.first().map(String::as_str) {
                    Some("-n") => (false, &args[1..]),
                    Some(f) if f.starts_with('-') => {
                        return Err(located(format!("echo {f} is not simulated").into()));
                    }
                    _ => (true, args),
                };
                let mut content = args.join(" ");
                if newline {
                    content.push('\n');
                }
                files.insert(path, content);
                0
            }
            [executor, args @ ..] if executor == "/kaniko/executor" => {
                let Some(profile) = &job.kaniko else {
                    return Err(located("the scenario gives no `job.kaniko`".into()));
                };
                let Some((network, trust)) = engine.container_view() else {
                    return Err(located(
                        "kaniko is not installed here: its lines are simulated only (no real run to compare)".into(),
                    ));
                };
                // The kaniko image's environment, under the job's variables.
                let mut env = std::collections::BTreeMap::new();
                env.insert("DOCKER_CONFIG".to_string(), "/kaniko/.docker/".to_string());
                env.insert("HOME".to_string(), "/root".to_string());
                for k in [
                    "CI_REGISTRY",
                    "CI_REGISTRY_USER",
                    "CI_REGISTRY_PASSWORD",
                    "DOCKER_CONFIG",
                    "HOME",
                ] {
                    if let Some(v) = payload.variable(k) {
                        env.insert(k.to_string(), v);
                    }
                }
                let kaniko = regsim_clients::kaniko::Kaniko {
                    profile: profile.clone(),
                    network,
                    trust,
                };
                let view = regsim_clients::kaniko::JobView {
                    env: &env,
                    files: &files,
                };
                let run = kaniko.executor(args, &view).await.map_err(located)?;
                text.push_str(&run.text());
                run.code
            }
            [tool, args @ ..] if tool_of(tool).is_some() => {
                let tool = tool_of(tool).expect("matched");
                let profile = match tool {
                    Tool::Podman => job.podman.as_ref(),
                    Tool::Buildah => job.buildah.as_ref(),
                }
                .ok_or_else(|| located(format!("the scenario gives no `job.{}`", tool.command()).into()))?;
                if tools.is_none() {
                    tools = Some(match engine.container_view() {
                        Some((network, trust)) => Tools::Simulated(Box::new(SimulatedTools::new(network, trust))),
                        None => Tools::Real(RealTools::new().map_err(located)?),
                    });
                }
                let run = match tools.as_mut().expect("made above") {
                    Tools::Simulated(t) => t.run(profile, args).await,
                    Tools::Real(t) => t.run(tool, args).await,
                }
                .map_err(located)?;
                text.push_str(&run.text());
                run.code
            }
            _ => {
                return Err(located(
                    "only `docker …`, `podman …`, `buildah …`, `/kaniko/executor …`, `mkdir -p …`, `echo … > FILE`, \
                     `unset …` and `sbt docker:publish` lines are simulated"
                        .into(),
                ));
            }
        };
        raw.push_str(&text[before..]);
        if code != 0 {
            return Ok(ScriptLog {
                daemon,
                text,
                raw,
                failed_with: Some(code),
            });
        }
    }
    Ok(ScriptLog {
        daemon,
        text,
        raw,
        failed_with: None,
    })
}
