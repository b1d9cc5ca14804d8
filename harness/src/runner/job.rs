//! One job, from the runner's request for it to `ERROR: Job failed: …` (gitlab-runner.md §2,
//! §5; the order of lines and sections as read at v14.2.0 and v16.2.0).

use super::credentials::{Ignored, Inputs};
use super::pull::{PullError, Puller};
use super::services::{Service, link_names, split_name_and_version};
use super::trace::{self, BOLD_CYAN, RESET, Trace};
use crate::engine::{Engine, ImageInspect};
use crate::mock::Stage;
use crate::mock::gitlab::JobPayload;
use crate::versions::runner::{JobFailedLine, PullFailureClass, shorten_token};
use crate::world::World;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// `PreparationRetries`.
const PREPARATION_RETRIES: usize = 3;
/// `PreparationRetryInterval`, printed as `3s`.
const RETRY_INTERVAL_SECS: i64 = 3;

/// A service the runner started; regsim assumes its container comes up and answers the runner's
/// health check (service containers are not simulated).
#[derive(Debug, Clone, Serialize)]
pub struct StartedService {
    /// The image as pulled (`…/docker:18.09.7-dind`).
    pub image_name: String,
    /// The tag (`18.09.7-dind`).
    pub version: String,
    pub links: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobLog {
    /// The bytes the runner sends to GitLab.
    pub raw: String,
    /// What the job page shows (and what a user copies).
    pub plain: String,
    /// The image was prepared and the job would go on to its script.
    pub image_ready: bool,
    /// The `docker` lines of the script and what the job image's CLI printed for them (the
    /// runner's stage headers around them are not simulated).
    pub script: Option<super::script::ScriptLog>,
    /// Credential sources the runner skipped without a word in the log.
    pub ignored_sources: Vec<String>,
    /// The services whose images were pulled: what they are and the names the job reaches them by.
    pub services: Vec<StartedService>,
    /// What the daemon noticed that the log does not show.
    pub engine_notes: Vec<String>,
    /// 18.7+ turns FF_TIMESTAMPS on by default: raw lines get timestamp prefixes, which regsim
    /// does not write (their interplay with section markers is UNCONFIRMED, gitlab-runner.md §2.1).
    /// The job page hides them, so the plain text is unaffected.
    pub timestamps_unmodelled: bool,
}

/// `POST /api/v4/jobs/request` against the mock GitLab, as the runner's network client does.
async fn request_job(stage: &Stage) -> Result<JobPayload, String> {
    let url = format!("{}/api/v4/jobs/request", stage.gitlab.uri());
    let body = serde_json::json!({
        "token": stage.world.runner.token,
        "info": {"name": "gitlab-runner", "version": stage.world.runner.version.to_string(), "executor": "docker"},
    });
    let resp = crate::http::pooled()
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("job request failed: {e}"))?;
    if resp.status().as_u16() != 201 {
        return Err(format!("job request answered {}", resp.status()));
    }
    resp.json::<JobPayload>()
        .await
        .map_err(|e| format!("job payload does not parse: {e}"))
}

/// `s_` + the first 12 hex digits of HMAC-SHA256(key = machine-id, message = "gitlab-runner").
fn system_id(machine_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(machine_id.as_bytes()).expect("any key length");
    mac.update(b"gitlab-runner");
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("s_{}", &hex[..12])
}

pub async fn run_job(stage: &Stage, engine: &Engine) -> Result<JobLog, String> {
    let world = &stage.world;
    let release = &world.runner.release;
    let payload = request_job(stage).await?;
    let mut clock = world.clock.unix_timestamp();
    let mut t = Trace::new(release.reset);

    // Header (common/build.go printRunningWithHeader).
    let revision = release.revision.clone().expect("world checks the release tag");
    t.println(&format!(
        "Running with gitlab-runner {} ({revision})",
        world.runner.version
    ));
    let short = shorten_token(release.short_token, &world.runner.token);
    if release.system_id {
        let id = system_id(world.runner.machine_id.as_deref().unwrap_or_default());
        t.println(&format!("  on {} {short}, system ID: {id}", world.runner.name));
    } else {
        t.println(&format!("  on {} {short}", world.runner.name));
    }

    // Variables: runner environment first, then the job's; the last one wins.
    let image = payload.expanded_image();
    let docker_auth_config = payload.variable("DOCKER_AUTH_CONFIG");
    let host_config_path = format!("{}/.docker/config.json", world.runner.home.trim_end_matches('/'));
    let policies = pull_policies(world, &payload);

    if release.sections {
        t.section_start("prepare_executor", clock);
        t.println(&format!("{BOLD_CYAN}Preparing the \"docker\" executor{RESET}"));
    }
    let mut puller = Puller {
        release,
        pull_seconds: world.docker.pull_seconds,
        engine,
        credentials: Inputs {
            docker_auth_config: docker_auth_config.as_deref(),
            host_config: world
                .runner
                .docker_config
                .as_deref()
                .map(|c| (host_config_path.as_str(), c)),
            payload: &payload.credentials,
        },
        ignored: Vec::new(),
    };
    let mut outcome: Result<ImageInspect, PullError> = Err(PullError {
        message: String::new(),
        build_error: false,
        system_failure_reason: false,
        unmodelled: None,
    });
    let services: Vec<(Service, Vec<String>)> = payload
        .services
        .iter()
        .map(|s| {
            let service = split_name_and_version(&crate::runner::expand::expand(&s.name, |k| payload.variable(k)));
            let links = link_names(&service, s.alias.as_deref(), release.service_aliases_split);
            (service, links)
        })
        .collect();
    for _ in 0..PREPARATION_RETRIES {
        t.println(&format!("Using Docker executor with image {image} ..."));
        // Services are created before the build image is resolved (createDependencies).
        let mut service_failed = None;
        for (s, _) in &services {
            let sep = if release.service_line_spaced { " " } else { "" };
            t.println(&format!("Starting service {}:{}{sep}...", s.service, s.version));
            if let Err(e) = puller.get_docker_image(&mut t, &s.image_name, &policies).await {
                service_failed = Some(e);
                break;
            }
        }
        outcome = match service_failed {
            Some(e) => Err(e),
            None => {
                if !services.is_empty() {
                    // waitForServices; a healthy service adds nothing more to the log.
                    t.println(if release.wait_for_services_timeout_shown {
                        "Waiting for services to be up and running (timeout 30 seconds)..."
                    } else {
                        "Waiting for services to be up and running..."
                    });
                }
                puller.get_docker_image(&mut t, &image, &policies).await
            }
        };
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
    if release.sections {
        t.section_end("prepare_executor", clock);
    }

    if let Err(PullError {
        unmodelled: Some(m), ..
    }) = &outcome
    {
        // The engine met something regsim does not model: the run stops, marked as such.
        return Err(if m.starts_with(crate::mock::NOT_MODELLED) {
            m.clone()
        } else {
            format!("{} {m}", crate::mock::NOT_MODELLED)
        });
    }
    let image_ready = outcome.is_ok();
    if let Err(e) = &outcome {
        // setTraceStatus: BuildErrors are recognised through wrapping from 14.1.
        let seen_as_build_error =
            e.build_error && release.pull_failure_class != PullFailureClass::RegexBuildErrorShownAsSystemFailure;
        if seen_as_build_error {
            let head = if e.system_failure_reason {
                "Job failed (system failure):"
            } else {
                "Job failed:"
            };
            match release.job_failed_line {
                JobFailedLine::Plain => t.errorln(&format!("{head} {}", e.message)),
                JobFailedLine::ExtraEmptyLine => t.errorln(&format!("{head} {}\n", e.message)),
            }
        } else {
            t.errorln(&format!("Job failed (system failure): {}", e.message));
        }
    }
    let ignored_sources = puller
        .ignored
        .iter()
        .map(|Ignored { source, why }| format!("{source}: {why}"))
        .collect();
    let started: Vec<StartedService> = if image_ready {
        services
            .into_iter()
            .map(|(s, links)| StartedService {
                image_name: s.image_name,
                version: s.version,
                links,
            })
            .collect()
    } else {
        Vec::new()
    };
    let script = match (&world.job.docker_client, image_ready && !world.job.script.is_empty()) {
        (Some(_), true) => {
            Some(super::script::run_script(engine, &payload, &world.job, &started, &world.runner.dns).await?)
        }
        _ => None,
    };
    let raw = t.raw().to_string();
    let timestamps_unmodelled = release.version >= crate::versions::v(18, 7, 0);
    Ok(JobLog {
        plain: trace::plain(&raw),
        raw,
        image_ready,
        script,
        ignored_sources,
        services: started,
        engine_notes: engine.notes(),
        timestamps_unmodelled,
    })
}

/// The pull policies the runner tries, in order: the job's `image:pull_policy`, else the runner's
/// `pull_policy` from config.toml, else `always` (gitlab-runner.md, pull policies).
pub fn pull_policies(world: &World, payload: &JobPayload) -> Vec<String> {
    if !payload.image.pull_policy.is_empty() {
        payload.image.pull_policy.clone()
    } else {
        world
            .runner
            .pull_policy
            .clone()
            .unwrap_or_else(|| vec!["always".into()])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn system_id_is_hmac_of_machine_id() {
        let id = super::system_id("6a0f3d1bd3c14e7c9c6a1b2f4e8d9a01");
        assert!(id.starts_with("s_") && id.len() == 14, "{id}");
    }
}
