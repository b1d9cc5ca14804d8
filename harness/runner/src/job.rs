//! One job, from the runner's request for it to `ERROR: Job failed: …` (gitlab-runner.md §2,
//! §5; the order of lines and sections as read at v14.2.0 and v16.2.0): the job request, the
//! header every executor prints, the executor's preparation (`executors`), the failure line, and
//! the script's Docker lines.

use crate::JobEnv;
use crate::credentials::Ignored;
use crate::executors::{self, Prepared, ScriptFailure};
use crate::pull::PullError;
use crate::script::{CliHome, ScriptLog, run_script};
use crate::services::StartedService;
use crate::trace::{self, Trace};
use hmac::{Hmac, Mac};
use regsim_clients::engine::Engine;
use regsim_model::scenario::Outcome;
use regsim_model::versions::runner::{JobFailedLine, PullFailureClass, shorten_token};
use regsim_model::world::{Executor, World};
use regsim_wire::NotModelled;
use regsim_wire::job_api::JobPayload;
use serde::Serialize;
use sha2::Sha256;

/// Why a job could not be told.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Something on the way needs behaviour regsim does not model.
    #[error(transparent)]
    NotModelled(#[from] NotModelled),
    /// The job request itself failed (the mock GitLab did not hand out the job).
    #[error("{0}")]
    JobRequest(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct JobLog {
    /// The bytes the runner sends to GitLab.
    pub raw: String,
    /// What the job page shows (and what a user copies).
    pub plain: String,
    /// The sections, each header with the duration the job page shows beside it.
    pub sections: Vec<trace::Section>,
    /// The image was prepared and the job would go on to its script.
    pub image_ready: bool,
    /// The executor pulls no image (shell): `image_ready` only says the job goes on.
    pub no_image: bool,
    /// The `docker` lines of the script and what the job image's CLI printed for them.
    pub script: Option<ScriptLog>,
    /// The job log from the user script's section to the last line, when the script ran.
    pub continued: Option<Continued>,
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

/// The part of the job log after the stages regsim does not simulate (the prepare script's
/// `Running on … via …` line and git's checkout): the user script's section, the cleanup
/// section and the job's last line.
#[derive(Debug, Clone, Serialize)]
pub struct Continued {
    /// What comes between the preparation and this part and is not modelled.
    pub not_modelled_before: String,
    pub raw: String,
    pub plain: String,
}

impl JobLog {
    /// What the outcome is about: the script, or before it the image's pull (the preparation on
    /// an executor without images).
    pub fn stage(&self) -> &'static str {
        match (&self.script, self.no_image) {
            (Some(_), _) => "job",
            (None, true) => "preparation",
            (None, false) => "image pull",
        }
    }

    /// The job page's text as regsim knows it: the preparation, then the part from the user
    /// script on (or, without it, the script's own lines).
    pub fn known_text(&self) -> String {
        let mut text = self.plain.clone();
        text.push_str(self.after_preparation());
        text
    }

    /// What follows the preparation's text: the continued log, else the script's own lines.
    pub fn after_preparation(&self) -> &str {
        match (&self.continued, &self.script) {
            (Some(c), _) => &c.plain,
            (None, Some(s)) => &s.text,
            (None, None) => "",
        }
    }

    /// The job's outcome, decided here once for every report: the image was prepared and the
    /// script, if any, got to its end.
    pub fn outcome(&self) -> Outcome {
        if self.image_ready && self.script.as_ref().is_none_or(|s| s.failed_with.is_none()) {
            Outcome::Succeeds
        } else {
            Outcome::Fails
        }
    }
}

/// `POST /api/v4/jobs/request` against the mock GitLab, as the runner's network client does.
async fn request_job(env: &JobEnv<'_>) -> Result<JobPayload, RunError> {
    let runner = &env.world.runner;
    let url = format!("{}/api/v4/jobs/request", env.gitlab_url);
    let body = serde_json::json!({
        "token": runner.token,
        "info": {"name": "gitlab-runner", "version": runner.version.to_string(), "executor": runner.executor.as_str()},
    });
    let resp = regsim_clients::http::shared()
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| RunError::JobRequest(format!("job request failed: {e}")))?;
    if resp.status().as_u16() != 201 {
        return Err(RunError::JobRequest(format!("job request answered {}", resp.status())));
    }
    resp.json::<JobPayload>()
        .await
        .map_err(|e| RunError::JobRequest(format!("job payload does not parse: {e}")))
}

/// `s_` + the first 12 hex digits of HMAC-SHA256(key = machine-id, message = "gitlab-runner").
fn system_id(machine_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(machine_id.as_bytes()).expect("any key length");
    mac.update(b"gitlab-runner");
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("s_{}", &hex[..12])
}

/// The header every executor prints first (common/build.go printRunningWithHeader).
fn header(world: &World, payload: &JobPayload, t: &mut Trace) -> Result<(), NotModelled> {
    let release = &world.runner.release;
    let revision = release.revision.clone().expect("world checks the release tag");
    t.println(&format!(
        "Running with gitlab-runner {} ({revision})",
        world.runner.version
    ));
    let short = shorten_token(release.short_token, &world.runner.token);
    if release.system_id {
        let id = match &world.runner.system_id {
            Some(stored) => stored.clone(),
            None => system_id(world.runner.machine_id.as_deref().unwrap_or_default()),
        };
        t.println(&format!("  on {} {short}, system ID: {id}", world.runner.name));
    } else {
        t.println(&format!("  on {} {short}", world.runner.name));
    }
    if let Some(line) = regsim_model::versions::feature_flags::line(&crate::flags::feature_flags(world, payload)?) {
        t.println(&format!("  {line}"));
    }
    Ok(())
}

/// `setTraceStatus`: the last line of a job whose preparation failed. BuildErrors are recognised
/// through wrapping from 14.1.
fn job_failed(world: &World, t: &mut Trace, e: &PullError) {
    let release = &world.runner.release;
    let seen_as_build_error =
        e.build_error && release.pull_failure_class != PullFailureClass::RegexBuildErrorShownAsSystemFailure;
    if seen_as_build_error {
        let head = if e.system_failure_reason {
            "Job failed (system failure):"
        } else {
            "Job failed:"
        };
        build_error_line(world, t, head, &e.message);
    } else {
        t.errorln(&format!("Job failed (system failure): {}", e.message));
    }
}

/// A BuildError's last line: `Sprintln` in 14.3 – 18.5 leaves an empty line carrying the reset.
fn build_error_line(world: &World, t: &mut Trace, head: &str, message: &str) {
    match world.runner.release.job_failed_line {
        JobFailedLine::Plain => t.errorln(&format!("{head} {message}")),
        JobFailedLine::ExtraEmptyLine => t.errorln(&format!("{head} {message}\n")),
    }
}

/// DOCKER_AUTH_CONFIG as the script's environment holds it: the job's variable, else the
/// runner's `environment` entry (the runner exports both into the job). A File-type variable
/// holds a path there, which a 28.3 → CLI would try to parse: not modelled.
fn script_env_auth_config(world: &World, payload: &JobPayload) -> Result<Option<String>, NotModelled> {
    match payload.variable_entry("DOCKER_AUTH_CONFIG") {
        Some(v)
            if v.file
                && world.job.docker_client.as_ref().is_some_and(|c| {
                    c.env_auth_config != regsim_model::versions::docker_cli::EnvAuthConfig::Ignored
                }) =>
        {
            Err(NotModelled::new(
                "a File-type DOCKER_AUTH_CONFIG in the script's environment (the CLI sees a path) is not modelled",
            ))
        }
        Some(v) => Ok(Some(v.value.clone())),
        None => Ok(world
            .runner
            .environment_variable("DOCKER_AUTH_CONFIG")
            .map(str::to_string)),
    }
}

/// The config.json the script's Docker CLI uses: a job container's own, or on a shell runner the
/// runner user's, with its earlier logins.
fn cli_home(world: &World) -> Result<CliHome, NotModelled> {
    match world.runner.executor {
        Executor::Shell => Ok(CliHome {
            config_path: format!("{}/.docker/config.json", world.runner.home.trim_end_matches('/')),
            logins: match &world.runner.docker_config {
                Some(text) => crate::credentials::cli_logins(text)?,
                None => Default::default(),
            },
        }),
        _ => Ok(CliHome::job_image()),
    }
}

/// The job log from the user script's section on: its header, the build image's line again
/// where the executor prints it, the script, the cleanup section and the last line
/// (`versions::job_script`). The stages before it take no time on the scenario clock.
fn continue_log(
    world: &World,
    build_image_line: &Option<String>,
    failure: ScriptFailure,
    since: Option<i64>,
    script: &ScriptLog,
) -> Continued {
    let stages = regsim_model::versions::job_script::stages(&world.runner.version).value;
    let clock = since.unwrap_or_else(|| world.clock.unix_timestamp());
    let mut t = Trace::new(world.runner.release.reset);
    let open = |t: &mut Trace, section: Option<(&str, &str)>| {
        if let Some((name, header)) = section {
            t.open_section(name, clock, header);
        }
    };
    let close = |t: &mut Trace, section: Option<(&str, &str)>| {
        if let Some((name, _)) = section {
            t.section_end(name, clock);
        }
    };
    open(&mut t, stages.user_script);
    if let Some(line) = build_image_line {
        t.println(line);
    }
    t.write_raw(&script.raw);
    close(&mut t, stages.user_script);
    open(&mut t, stages.cleanup);
    close(&mut t, stages.cleanup);
    match script.failed_with {
        None => t.infoln("Job succeeded"),
        // The executor's error is a BuildError itself, not wrapped: every release sees it.
        Some(code) => build_error_line(world, &mut t, "Job failed:", &failure.text(code)),
    }
    let raw = t.raw().to_string();
    Continued {
        not_modelled_before: "not modelled: the stages between the preparation and the user script \
                              (the prepare script's `Running on … via …` line, git's checkout)"
            .into(),
        plain: trace::plain(&raw),
        raw,
    }
}

pub async fn run_job(env: &JobEnv<'_>, engine: &Engine) -> Result<JobLog, RunError> {
    let world = env.world;
    let release = &world.runner.release;
    if world
        .tokens
        .iter()
        .any(|t| t.name == "gitlab-deploy-token" && matches!(t.owner, regsim_model::world::TokenOwner::Group(_)))
    {
        return Err(RunError::NotModelled(NotModelled::new(
            "a group deploy token named gitlab-deploy-token (whether GitLab sets CI_DEPLOY_USER/PASSWORD from it, by release) is not modelled",
        )));
    }
    let payload = request_job(env).await?;
    let mut t = Trace::new(release.reset);
    header(world, &payload, &mut t)?;
    let Prepared {
        outcome,
        services,
        ignored,
        build_image_line,
        script_failure,
    } = executors::prepare(env, &payload, engine, &mut t).await;
    if let Err(PullError {
        unmodelled: Some(m), ..
    }) = &outcome
    {
        // The engine met something regsim does not model: the run stops, marked as such.
        return Err(RunError::NotModelled(m.clone()));
    }
    let image_ready = outcome.is_ok();
    if let Err(e) = &outcome {
        job_failed(world, &mut t, e);
    }
    let started = if image_ready { services } else { Vec::new() };
    let job_tools = world.job.docker_client.is_some()
        || world.job.podman.is_some()
        || world.job.buildah.is_some()
        || world.job.kaniko.is_some();
    let script = match (job_tools, image_ready && !world.job.script.is_empty()) {
        (true, true) => {
            let home = cli_home(world)?;
            Some(
                run_script(
                    engine,
                    &payload,
                    &world.job,
                    &crate::script::Around {
                        services: &started,
                        // A build pod asks the cluster's DNS for names that are not its hostAliases.
                        dns: match &world.cluster {
                            Some(c) => &c.dns,
                            None => &world.runner.dns,
                        },
                        volumes: &world.runner.volumes,
                        on_host: world.runner.executor == regsim_model::world::Executor::Shell,
                        in_pod: world.runner.kubernetes.as_ref().map(|k| k.privileged),
                    },
                    &home,
                    script_env_auth_config(world, &payload)?,
                )
                .await?,
            )
        }
        _ => None,
    };
    let continued = script.as_ref().map(|s| {
        continue_log(
            world,
            &build_image_line,
            script_failure,
            trace::last_marker_time(t.raw()),
            s,
        )
    });
    let raw = t.raw().to_string();
    let mut sections = trace::sections(&raw);
    if let Some(c) = &continued {
        sections.extend(trace::sections(&c.raw));
    }
    Ok(JobLog {
        plain: trace::plain(&raw),
        sections,
        continued,
        raw,
        image_ready,
        no_image: world.runner.executor == Executor::Shell,
        script,
        ignored_sources: ignored
            .iter()
            .map(|Ignored { source, why }| format!("{source}: {why}"))
            .collect(),
        services: started,
        engine_notes: engine.notes(),
        timestamps_unmodelled: release.version >= regsim_model::versions::runner::FF_TIMESTAMPS_ON,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn system_id_is_hmac_of_machine_id() {
        let id = super::system_id("6a0f3d1bd3c14e7c9c6a1b2f4e8d9a01");
        assert!(id.starts_with("s_") && id.len() == 14, "{id}");
    }
}
