//! The docker executor (`executors/docker`): the `prepare_executor` section, the services it
//! starts before the build image (createDependencies), the pull-policy loop for each image
//! (`crate::pull`), and the preparation retries around it all (gitlab-runner.md §2.4–2.5).

use super::Prepared;
use crate::credentials::Inputs;
use crate::expand::expand;
use crate::pull::{PullError, Puller, Requested, allowed_pull_policies, pull_policies, runner_pull_policies};
use crate::services::{Service, StartedService, link_names, split_name_and_version};
use crate::trace::Trace;
use regsim_clients::engine::Engine;
use regsim_model::world::World;
use regsim_wire::engine_api::ImageInspect;
use regsim_wire::job_api::JobPayload;

/// `PreparationRetries`.
const PREPARATION_RETRIES: usize = 3;
/// `PreparationRetryInterval`, printed as `3s`.
const RETRY_INTERVAL_SECS: i64 = 3;

/// The job's services as the runner names them: what it pulls and the names the build container
/// reaches each by.
fn services(world: &World, payload: &JobPayload) -> Vec<(Service, Vec<String>)> {
    let release = &world.runner.release;
    payload
        .services
        .iter()
        .map(|s| {
            let service = split_name_and_version(&expand(&s.name, |k| payload.variable(k)));
            let links = link_names(&service, s.alias.as_deref(), release.service_aliases_split);
            (service, links)
        })
        .collect()
}

/// What an executor built on the docker executor adds: its name in the section header, lines its
/// own `Prepare` prints before the docker executor's in each attempt, and a reason why a second
/// attempt cannot be told (`None` when it can).
pub(super) struct Flavour {
    pub name: &'static str,
    pub per_attempt: Vec<String>,
    pub no_retry: Option<String>,
}

impl Flavour {
    pub fn docker() -> Flavour {
        Flavour {
            name: "docker",
            per_attempt: Vec::new(),
            no_retry: None,
        }
    }
}

pub(super) async fn prepare(
    world: &World,
    payload: &JobPayload,
    engine: &Engine,
    t: &mut Trace,
    flavour: &Flavour,
) -> Prepared {
    let release = &world.runner.release;
    let mut clock = world.clock.unix_timestamp();
    // Variables: runner environment first, then the job's; the last one wins.
    let image = crate::expand::expanded_image(payload);
    let docker_auth_config = crate::credentials::docker_auth_config(payload, &world.runner);
    // The runner host's credential helpers, as programs on its PATH for the whole job.
    let helpers = match crate::credentials::helper::Installed::install(&world.runner.credential_helpers) {
        Ok(h) => h,
        Err(e) => {
            return Prepared::unmodelled(regsim_wire::NotModelled::new(format!(
                "the runner host's credential helpers could not be installed: {e}"
            )));
        }
    };
    let host_config_path = format!("{}/.docker/config.json", world.runner.home.trim_end_matches('/'));
    let policies = pull_policies(world, payload);
    if release.sections {
        t.open_section(
            "prepare_executor",
            clock,
            &format!("Preparing the \"{}\" executor", flavour.name),
        );
    }
    let mut puller = Puller {
        release,
        pull_seconds: world.docker.pull_seconds,
        elapsed: Default::default(),
        engine,
        credentials: Inputs {
            docker_auth_config: docker_auth_config.as_deref(),
            host_config: world
                .runner
                .docker_config
                .as_deref()
                .map(|c| (host_config_path.as_str(), c)),
            payload: &payload.credentials,
            helpers: &helpers,
        },
        ignored: Vec::new(),
        allowed_pull_policies: allowed_pull_policies(world),
    };
    let services = services(world, payload);
    let mut outcome: Result<ImageInspect, PullError> = Err(PullError::default());
    for n in 0..PREPARATION_RETRIES {
        if n > 0
            && let Some(why) = &flavour.no_retry
        {
            outcome = Err(PullError::unmodelled(regsim_wire::NotModelled::new(why.clone())));
            break;
        }
        for line in &flavour.per_attempt {
            t.println(line);
        }
        t.println(&format!("Using Docker executor with image {image} ..."));
        outcome = attempt(world, &mut puller, t, &services, &image, &policies).await;
        match &outcome {
            Ok(_) => break,
            Err(e) if e.build_error => break,
            Err(e) => {
                t.errorln(&format!("Preparation failed: {}", e.message));
                t.infoln(&format!("Will be retried in {RETRY_INTERVAL_SECS}s ..."));
                clock += RETRY_INTERVAL_SECS;
            }
        }
    }
    clock += puller.elapsed.load(std::sync::atomic::Ordering::Relaxed) as i64;
    if release.sections {
        t.section_end("prepare_executor", clock);
    }
    let build_image_line = match &outcome {
        Ok(img)
            if regsim_model::versions::job_script::stages(&release.version)
                .value
                .build_image_line_again =>
        {
            puller.using_line(&image, img)
        }
        _ => None,
    };
    Prepared {
        build_image_line,
        script_failure: super::ScriptFailure::DockerExitCode,
        outcome: outcome.map(|_| ()),
        services: services
            .into_iter()
            .map(|(s, links)| StartedService {
                image_name: s.image_name,
                version: s.version,
                links,
            })
            .collect(),
        ignored: puller.ignored,
    }
}

/// One attempt: services are created before the build image is resolved (createDependencies),
/// then the runner waits for them and pulls the build image.
async fn attempt(
    world: &World,
    puller: &mut Puller<'_>,
    t: &mut Trace,
    services: &[(Service, Vec<String>)],
    image: &str,
    policies: &Requested,
) -> Result<ImageInspect, PullError> {
    let release = &world.runner.release;
    for (s, _) in services {
        let sep = if release.service_line_spaced { " " } else { "" };
        t.println(&format!("Starting service {}:{}{sep}...", s.service, s.version));
        puller
            .get_docker_image(t, &s.image_name, &runner_pull_policies(world))
            .await?;
    }
    if !services.is_empty() {
        // waitForServices; a healthy service adds nothing more to the log.
        t.println(if release.wait_for_services_timeout_shown {
            "Waiting for services to be up and running (timeout 30 seconds)..."
        } else {
            "Waiting for services to be up and running..."
        });
    }
    puller.get_docker_image(t, image, policies).await
}
