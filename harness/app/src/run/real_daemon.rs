//! The same job through the real Docker daemon: the agreement test and the conformance suite
//! compare it with the simulated engine's, byte for byte.

use super::{Report, RunFailure, job_env, report, simulated_engine, unmodelled};
use regsim_clients::engine::Engine;
use regsim_clients::engine::real::RealDaemon;
use regsim_model::world::World;
use regsim_runner::expand::{expand, expanded_image};
use regsim_runner::services::split_name_and_version;
use regsim_runner::{JobLog, RunError, run_job};
use regsim_servers::{Placement, Stage};
use std::path::Path;
use std::sync::Arc;

/// The same job on the same loopback mocks twice: once with the simulated engine at `docker`,
/// once with the real daemon. Returns (simulated, real) reports.
pub async fn run_against_real_daemon(
    world: &World,
    file: &Path,
    daemon: Arc<RealDaemon>,
) -> Result<(Report, Report), RunFailure> {
    if pulls_from_docker_hub(world) {
        // On 127.0.0.1 Docker Hub has no name of its own, and the real daemon must never reach
        // the real Hub: such a job is compared by its real names only.
        return Err(RunFailure::Run(RunError::NotModelled(regsim_wire::NotModelled::new(
            "the job pulls from Docker Hub, which has no name on 127.0.0.1: compared by its real names only",
        ))));
    }
    let stage = Stage::start(world, Placement::Loopback).await?;
    let sim = simulated_engine(&stage);
    let sim_log = run_job(&job_env(&stage), &sim).await?;
    unmodelled(&stage)?;
    let sim_report = report(&stage.world, file, &stage, sim_log, false);
    stage.requeue_job();
    let real_log = run_job_on_real_daemon(&stage, &daemon).await;
    let real_report = report(&stage.world, file, &stage, real_log?, false);
    Ok((sim_report, real_report))
}

/// The stage's job through the real daemon: every image the job names (its image, its services,
/// the images its script builds) taken in turn from other jobs on the daemon
/// ([`RealDaemon::take_turns`]), removed before (with leftover twins) so the pull starts from
/// nothing, and removed after.
pub async fn run_job_on_real_daemon(stage: &Stage, daemon: &RealDaemon) -> Result<JobLog, RunError> {
    let payload = regsim_servers::gitlab::job_payload(&stage.world);
    let services = payload.services.iter().map(|s| {
        let name = expand(&s.name, |k| payload.variable(k));
        split_name_and_version(&name).image_name
    });
    let names: Vec<String> = std::iter::once(expanded_image(&payload))
        .chain(services)
        .chain(regsim_runner::script::created_images(&payload, &stage.world.job))
        .collect();
    let _turns = daemon.take_turns(&names).await;
    for name in &names {
        daemon.remove_image(name).await;
        daemon.remove_loopback_twins(name).await;
    }
    let log = run_job(&job_env(stage), &Engine::Real(daemon.clone())).await;
    for name in &names {
        daemon.remove_image(name).await;
    }
    log
}

/// The same job twice, each time by the scenario's own names: with the simulated engine on a
/// stage of its own (certificates from the scenario's clock), then with the real daemon `daemon`
/// on a stage whose certificates come from `pki` (valid at the machine's time) and whose servers
/// `serve` puts where that daemon reaches them by name (a network namespace's addresses); it
/// returns the listeners to keep while the job runs. Returns (simulated, real) reports.
pub async fn run_by_name_on_real_daemon(
    world: &World,
    file: &Path,
    daemon: Arc<RealDaemon>,
    pki: Arc<regsim_servers::pki::Pki>,
    serve: impl FnOnce(&Stage) -> Result<Vec<regsim_servers::listen::Listener>, String>,
) -> Result<(Report, Report), RunFailure> {
    let sim_stage = Stage::start(world, Placement::Named).await?;
    let sim = simulated_engine(&sim_stage);
    let sim_log = run_job(&job_env(&sim_stage), &sim).await?;
    unmodelled(&sim_stage)?;
    let sim_report = report(&sim_stage.world, file, &sim_stage, sim_log, false);
    drop(sim_stage);
    let stage = Stage::start_with_pki(
        world,
        Placement::Named,
        None,
        regsim_servers::Settings::default(),
        Some(pki),
    )
    .await?;
    let listeners = serve(&stage).map_err(|e| RunFailure::Run(RunError::JobRequest(e)))?;
    let real_log = run_job_on_real_daemon(&stage, &daemon).await;
    drop(listeners);
    let real_report = report(&stage.world, file, &stage, real_log?, false);
    Ok((sim_report, real_report))
}

/// Whether the job pulls anything straight from Docker Hub (its image, a service, a Dockerfile's
/// `FROM`).
pub fn pulls_from_docker_hub(world: &World) -> bool {
    let payload = regsim_servers::gitlab::job_payload(world);
    let on_hub = |image: &str| regsim_wire::reference::gitlab_runner::split_docker_image_name(image) == "docker.io";
    let froms: Vec<String> = world
        .job
        .dockerfile
        .iter()
        .flat_map(|d| d.lines())
        .filter_map(|l| l.trim().strip_prefix("FROM "))
        .map(|f| f.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    on_hub(&expanded_image(&payload))
        || payload
            .services
            .iter()
            .any(|s| on_hub(&expand(&s.name, |k| payload.variable(k))))
        || froms.iter().any(|f| on_hub(f))
}

/// Whether a job-log line is a layer status dockerd may or may not get to the client: a push's
/// `<layer>: Waiting` (also as sbt's `[info]` line), or a pull's `Pulling fs layer`, `Waiting`,
/// `Verifying Checksum` or `Download complete`. dockerd's transfers keep only a layer's latest
/// progress for the client (moby distribution/xfer/transfer.go `Broadcast`: a watcher writes
/// `lastProgress` when it gets to it), so a status followed quickly by the next may never be
/// written; a push's `Waiting` races the error from a goroutine of its own (xfer/upload.go).
/// Each layer's last status (`Pull complete`, `Pushed`, the error) always arrives.
pub fn racy_layer_status(line: &str) -> bool {
    let l = line.trim_start_matches("[info] ");
    let Some((id, status)) = l.split_once(": ") else {
        return false;
    };
    id.len() == 12
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(
            status,
            "Waiting" | "Pulling fs layer" | "Verifying Checksum" | "Download complete"
        )
}

/// `text` without the lines of [`racy_layer_status`].
pub fn without_racy_layer_statuses(text: &str) -> String {
    text.lines()
        .filter(|l| !racy_layer_status(l))
        .collect::<Vec<_>>()
        .join("\n")
}
