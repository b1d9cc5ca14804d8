//! The real dockerd (Debian's docker.io 20.10.24): through the mock registry against the simulated
//! Docker 20.10.24 (the agreement tests/real_daemon.rs also runs), and through the reference
//! registry against the mock registry.

use crate::forward::Forwarder;
use crate::reference::Reference;
use crate::seed;
use crate::table::{Check, DOCKERD_VIA_MOCK, DOCKERD_VIA_REFERENCE};
use regsim::run::{Report, run_against_real_daemon, run_job_on_real_daemon};
use regsim_clients::engine::real::RealDaemon;
use regsim_model::world::World;
use regsim_runner::JobLog;
use regsim_servers::gitlab::job_payload;
use regsim_servers::image;
use regsim_servers::{Placement, Stage};
use std::path::Path;
use std::sync::Arc;

/// The job log as the runner writes it, then the script's `docker` lines (the daemon's streams).
pub fn text(log: &JobLog) -> String {
    let script = log.script.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    format!("{}{script}", log.raw)
}

/// How many times a job is run when two logs differ only in racing progress lines.
pub const ATTEMPTS: usize = 3;

/// Two logs that differ only in racing layer statuses: such a pair is run again; the check
/// agrees byte for byte if a run matches, or says it compared without those lines.
pub fn only_racy_differs(a: &str, b: &str) -> bool {
    a != b && without_racy(a) == without_racy(b)
}

pub fn without_racy(t: &str) -> String {
    regsim::run::without_racy_layer_statuses(t)
}

/// Simulated Docker 20.10.24 vs the real dockerd, both through the mocks; returns the check and
/// the real daemon's report (its pull outcome is what skopeo and oci-client are held to).
pub async fn via_mock(world: &World, file: &Path, name: &str, daemon: Arc<RealDaemon>) -> (Check, Option<Report>) {
    let mut runs = 0;
    loop {
        runs += 1;
        match run_against_real_daemon(world, file, daemon.clone()).await {
            Ok((sim, real)) => {
                let (sim, real_text) = (text(&sim.job_log), text(&real.job_log));
                if runs < ATTEMPTS && only_racy_differs(&sim, &real_text) {
                    continue;
                }
                let c = settle(
                    name,
                    DOCKERD_VIA_MOCK,
                    "job log, byte for byte",
                    runs,
                    ("simulated Docker 20.10.24", sim),
                    ("real dockerd 20.10.24", real_text),
                );
                return (c, Some(real));
            }
            Err(e) if e.not_modelled().is_some() => {
                let c = Check {
                    scenario: name.to_string(),
                    client: DOCKERD_VIA_MOCK,
                    what: "job log".into(),
                    verdict: crate::table::Verdict::NotCompared(format!("regsim does not model this pull: {e}")),
                };
                return (c, None);
            }
            Err(e) => return (Check::broken(name, DOCKERD_VIA_MOCK, e.to_string()), None),
        }
    }
}

/// The check of two logs after `runs` runs: byte for byte, or — when the runs differed only in
/// racing layer statuses every time — without those lines, saying so.
pub fn settle(
    name: &str,
    client: &'static str,
    what: &str,
    runs: usize,
    left: (&'static str, String),
    right: (&'static str, String),
) -> Check {
    if only_racy_differs(&left.1, &right.1) {
        return Check::compare(
            name,
            client,
            format!(
                "{what}, but for the layer statuses dockerd may drop (Pulling fs layer, Waiting, Verifying Checksum, \
                 Download complete), which differed in all {runs} runs"
            ),
            (left.0, without_racy(&left.1)),
            (right.0, without_racy(&right.1)),
        );
    }
    Check::compare(name, client, attempts(what, runs), left, right)
}

fn attempts(what: &str, runs: usize) -> String {
    match runs {
        1 => what.to_string(),
        n => format!("{what} (run {n}: the runs before differed only in racing layer statuses)"),
    }
}

/// Whether the job talks to GitLab's registry at all (its image, a service, or a script line):
/// otherwise the reference registry has nothing to answer.
pub fn uses_gitlab_registry(world: &World) -> bool {
    let payload = job_payload(world);
    let host = world.gitlab.registry.to_string().to_lowercase();
    let on = |image: &str| regsim_wire::reference::gitlab_runner::split_docker_image_name(image).to_lowercase() == host;
    on(&regsim_runner::expand::expanded_image(&payload))
        || payload.services.iter().any(|s| on(&s.name))
        || world
            .job
            .script
            .iter()
            .any(|l| l.contains(&world.gitlab.registry.to_string()) || l.contains("$CI_REGISTRY"))
}

async fn run_real(stage: &Stage, daemon: &RealDaemon) -> Result<JobLog, String> {
    run_job_on_real_daemon(stage, daemon).await.map_err(|e| e.to_string())
}

/// The same job on the same stage through the real daemon twice: GitLab's registry played by the
/// mock, then by distribution 2.8.2 holding the same image bytes. The registry's name is a
/// forwarder's address, switched between the runs, so the two logs are compared as they are.
/// Tokens come from the mock token service both times, stamped with the wall clock (the reference
/// registry checks them against its own).
pub async fn via_reference(world: &World, name: &str, daemon: &RealDaemon) -> Check {
    let mut runs = 0;
    let outcome = loop {
        runs += 1;
        match reference_run(world, name, daemon).await {
            Ok((mock, refd, _)) if runs < ATTEMPTS && only_racy_differs(&mock, &refd) => continue,
            other => break other,
        }
    };
    match outcome {
        Ok((mock, refd, logs)) => {
            let mut c = settle(
                name,
                DOCKERD_VIA_REFERENCE,
                "job log through each registry",
                runs,
                ("via the mock registry", mock),
                ("via distribution 2.8.2", refd),
            );
            if let crate::table::Verdict::Differ { right, .. } = &mut c.verdict {
                right.1.push_str("--- reference registry log ---\n");
                right.1.push_str(&logs);
            }
            c
        }
        Err(e) => Check::broken(name, DOCKERD_VIA_REFERENCE, e),
    }
}

async fn reference_run(world: &World, name: &str, daemon: &RealDaemon) -> Result<(String, String, String), String> {
    let mut world = world.clone();
    world.token_clock = time::OffsetDateTime::now_utc();
    let now = world.token_clock.unix_timestamp();

    let forwarder = Forwarder::start().await?;
    let stage = Stage::start(&world, Placement::LoopbackWithRegistryAt(forwarder.addr))
        .await
        .map_err(|e| e.to_string())?;
    let registry_name = stage.world.gitlab.registry.to_string();
    // The reference registry starts and takes the images while the mock registry serves the
    // first run.
    let seeded = async {
        let registry = Reference::start(name, &stage.gitlab.uri(), &world.gitlab.issuer).await?;
        let addr = registry.addr;
        for p in &stage.world.projects {
            for i in &p.images {
                // The bytes the mock registry serves under the same name, so digests and IDs match.
                let img = image::build(&registry_name, &i.repository, &i.tag, i.layers);
                if let Err(e) = seed::push(addr, &world.gitlab.issuer, now, &i.repository, &i.tag, &img).await {
                    let logs = registry.logs().await;
                    registry.stop().await;
                    return Err(format!("{e}\n--- reference registry log ---\n{logs}"));
                }
            }
        }
        Ok::<_, String>(registry)
    };
    forwarder.point_to(*stage.registry.address());
    let (mock_log, registry) = tokio::join!(run_real(&stage, daemon), seeded);
    let registry = registry?;
    let result = async {
        let mock_log = mock_log?;
        forwarder.point_to(registry.addr);
        stage.requeue_job();
        let ref_log = run_real(&stage, daemon).await?;
        Ok::<_, String>((text(&mock_log), text(&ref_log)))
    }
    .await;
    let logs = registry.logs().await;
    registry.stop().await;
    let (mock, refd) = result?;
    Ok((mock, refd, logs))
}
