//! Conformance (issue 5): regsim's mocks against real, independently written clients and servers.
//!
//! - the real dockerd 20.10.24 through the mock registry vs the simulated Docker 20.10.24;
//! - the real dockerd through distribution 2.8.2 (Debian's `docker-registry`, in a container
//!   started by testcontainers) vs through the mock registry, tokens from the mock token service;
//! - skopeo and the `oci-client` crate against the mocks vs the real dockerd's pull outcome;
//! - forged and broken tokens against the mock registry and distribution 2.8.2;
//! - schema 1 manifests: regsim's conversion against distribution 2.8.2's, and the image the real
//!   dockerd stores from one against the simulated engines';
//! - the real containerd 1.6.20's CRI `PullImage` (the kubelet's call) vs the simulated
//!   containerd 1.6.20, on the mocks (`containerd`);
//! - the real dockerd by the scenarios' own host names over HTTPS, in a network namespace of the
//!   suite's own, against the simulated engine by the same names (`by_name`).
//!
//! Prints a table and ends with `conformance: N checks, N agree, 0 differ`; exits non-zero on any
//! difference. A missing engine or tool is reported as SKIPPED, which fails under `CI=true`.
//! `make conformance` runs it alone; `cargo test --workspace` runs it too.

mod by_name;
mod clients;
mod containerd;
mod daemon;
mod forged;
mod forward;
mod reference;
mod schema1;
mod seed;
mod table;

use regsim::run::observation::NotComparable;
use regsim::run::{Overrides, collect, load};
use regsim_clients::engine::real::RealDaemon;
use regsim_model::world::World;
use regsim_servers::{Placement, Stage};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use table::{Check, DOCKERD_VIA_MOCK, DOCKERD_VIA_REFERENCE, FORGED, OCI_CLIENT, SCHEMA1, SKOPEO};
use tokio::sync::Semaphore;

/// The engine the real daemon here is, and the simulated one is compared at.
const DOCKER: &str = "20.10.24";
/// Reference registries running at once: each is a container (and a copy of its 20 MB layer
/// under the vfs driver); the machines here have two cores.
const REGISTRIES_AT_ONCE: usize = 3;
/// skopeo processes at once.
const SKOPEO_AT_ONCE: usize = 4;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn main() -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if rt.block_on(run()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What is missing here, per client; `Ok` when it can run.
struct Availability {
    daemon: Result<Arc<RealDaemon>, String>,
    reference: Result<(), Unavailable>,
    skopeo: Result<(), String>,
    /// Debian's podman and buildah, which run a job's `podman …` / `buildah …` lines in the
    /// real-daemon runs.
    containers_tools: Result<(), String>,
}

/// Why the reference registry cannot take part: missing here (skipped; a failure under CI), or
/// present but its image would not build (always a failure).
enum Unavailable {
    Missing(String),
    Broken(String),
}

impl Unavailable {
    fn check(&self, scenario: &str, client: &'static str) -> Check {
        match self {
            Unavailable::Missing(why) => Check::skipped(scenario, client, why.clone()),
            Unavailable::Broken(why) => Check::broken(scenario, client, why.clone()),
        }
    }
}

async fn availability() -> Availability {
    let daemon = match RealDaemon::connect().await {
        Ok(d) => match d.version().await {
            Ok(v) if v.starts_with("20.10.") => Ok(Arc::new(d)),
            Ok(v) => Err(format!(
                "the real daemon is {v}; these comparisons are calibrated for dockerd {DOCKER}"
            )),
            Err(e) => Err(format!("dockerd does not report its version: {e}")),
        },
        Err(e) => Err(format!("no Docker daemon answers ({e}); start one with `make dockerd`")),
    };
    let reference = match (&daemon, reference::unavailable()) {
        (_, Some(why)) => Err(Unavailable::Missing(why)),
        (Err(e), None) => Err(Unavailable::Missing(format!(
            "the reference registry runs in a container: {e}"
        ))),
        (Ok(_), None) => reference::build_image().await.map_err(Unavailable::Broken),
    };
    let skopeo = match tokio::process::Command::new("skopeo").arg("--version").output().await {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("skopeo is missing (Debian package `skopeo`): apt-get install skopeo".to_string()),
    };
    let containers_tools = regsim_clients::containers_image::real::RealTools::new()
        .map(drop)
        .map_err(|m| m.reason);
    Availability {
        daemon,
        reference,
        skopeo,
        containers_tools,
    }
}

/// All the checks of one scenario.
async fn scenario_checks(
    name: String,
    file: PathBuf,
    world: World,
    avail: Arc<Availability>,
    registries: Arc<Semaphore>,
    skopeos: Arc<Semaphore>,
    scripts: Arc<tokio::sync::Mutex<()>>,
) -> Vec<Check> {
    let mut out = Vec::new();
    // dockerd limits uploads daemon-wide (5 at once, moby distribution/xfer/transfer.go) and
    // prints `Waiting` for a layer that must queue: two jobs pushing at once would print lines
    // neither prints alone. Jobs with a script (the ones that push) take turns; taken before a
    // registry permit, so the two never wait on each other in a circle.
    let _script_turn = if world.job.script.is_empty() {
        None
    } else {
        Some(scripts.lock().await)
    };
    // The columns that do not apply to this job, and why.
    let not_compared = |clients: &[&'static str], why: &str| -> Vec<Check> {
        clients
            .iter()
            .map(|&client| Check {
                scenario: name.clone(),
                client,
                what: "job log".into(),
                verdict: table::Verdict::NotCompared(why.into()),
            })
            .collect()
    };
    let docker_columns = [DOCKERD_VIA_MOCK, DOCKERD_VIA_REFERENCE, SKOPEO, OCI_CLIENT];
    let shell = world.runner.executor == regsim_model::world::Executor::Shell;
    // The same rule as `run --engine real` (other platforms never get here: the caller lists them).
    match regsim::run::observation::not_comparable(&world) {
        Some(NotComparable::Kubernetes) => {
            return not_compared(
                &docker_columns,
                "the kubernetes executor pulls through the node's containerd, not a Docker daemon: compared in the \
                 containerd CRI column, with the kubelet's credentials",
            );
        }
        Some(NotComparable::NothingReachesARegistry) => {
            return not_compared(
                &docker_columns,
                "the shell executor pulls no image and this job has no script: nothing reaches a registry",
            );
        }
        Some(NotComparable::DockerHub) => {
            return not_compared(
                &[DOCKERD_VIA_MOCK, SKOPEO, OCI_CLIENT],
                "pulls from Docker Hub, which has no name on 127.0.0.1 (and the real Hub must never be reached): \
                 compared by its real names (dockerd by name)",
            );
        }
        Some(NotComparable::OtherPlatform(_)) | None => {}
    }
    let daemon = match &avail.daemon {
        Ok(d) => d.clone(),
        Err(why) => {
            for client in [DOCKERD_VIA_MOCK, DOCKERD_VIA_REFERENCE, SKOPEO, OCI_CLIENT] {
                out.push(Check::skipped(&name, client, why.clone()));
            }
            return out;
        }
    };
    let job_tools = world.job.podman.is_some() || world.job.buildah.is_some();
    if job_tools && let Err(why) = &avail.containers_tools {
        for client in [DOCKERD_VIA_MOCK, DOCKERD_VIA_REFERENCE] {
            out.push(Check::skipped(
                &name,
                client,
                format!("the script runs podman or buildah: {why}"),
            ));
        }
        return out;
    }
    let (check, real) = daemon::via_mock(&world, &file, &name, daemon.clone()).await;
    out.push(check);
    // skopeo and oci-client pull the job image: a shell runner never does.
    if let Some(real) = real.filter(|_| !shell) {
        let allowed = real.job_log.image_ready;
        let skopeo = async {
            match &avail.skopeo {
                Ok(()) => {
                    let _permit = skopeos.acquire().await.expect("semaphore");
                    clients::skopeo(&name, &world, allowed).await
                }
                Err(why) => Some(Check::skipped(&name, SKOPEO, why.clone())),
            }
        };
        let (s, o) = tokio::join!(skopeo, clients::oci_client(&name, &world, allowed));
        out.extend(s);
        out.extend(o);
    }
    if daemon::uses_gitlab_registry(&world) {
        match &avail.reference {
            Ok(()) => {
                let _permit = registries.acquire().await.expect("semaphore");
                out.push(daemon::via_reference(&world, &name, &daemon).await);
            }
            Err(why) => out.push(why.check(&name, DOCKERD_VIA_REFERENCE)),
        }
    }
    out
}

/// The forged-token table, on seed 001's fix (an image a project access token may pull).
async fn forged_checks(avail: Arc<Availability>, registries: Arc<Semaphore>) -> Vec<Check> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/seed-001-fix-project-access-token.yaml");
    if let Err(why) = &avail.reference {
        return vec![why.check("forged tokens", FORGED)];
    }
    let mut world = match load(&file, &Overrides::default()) {
        Ok(w) => w,
        Err(e) => return vec![Check::broken("forged tokens", FORGED, e.to_string())],
    };
    world.token_clock = time::OffsetDateTime::now_utc();
    let now = world.token_clock.unix_timestamp();
    let _permit = registries.acquire().await.expect("semaphore");
    let stage = Stage::start(&world, Placement::Loopback).await.unwrap();
    let Some(stored) = stage.world.projects.iter().flat_map(|p| &p.images).next().cloned() else {
        return vec![Check::broken("forged tokens", FORGED, "seed 001's fix holds no image")];
    };
    let result = async {
        let registry = reference::Reference::start("forged", &stage.gitlab.uri(), &world.gitlab.issuer).await?;
        let addr = registry.addr;
        let img = regsim_servers::image::build(
            &stage.world.gitlab.registry.to_string(),
            &stored.repository,
            &stored.tag,
            stored.layers,
        );
        let pushed = seed::push(addr, &world.gitlab.issuer, now, &stored.repository, &stored.tag, &img).await;
        let checks = match pushed {
            Ok(()) => Ok(forged::checks(
                &forged::Target {
                    issuer: &world.gitlab.issuer,
                    repository: &stored.repository,
                    tag: &stored.tag,
                    now,
                },
                *stage.registry.address(),
                addr,
            )
            .await),
            Err(e) => Err(format!(
                "{e}\n--- reference registry log ---\n{}",
                registry.logs().await
            )),
        };
        registry.stop().await;
        checks
    }
    .await;
    result.unwrap_or_else(|e: String| vec![Check::broken("forged tokens", FORGED, e)])
}

/// The schema 1 checks (see `schema1`).
async fn schema1_checks(avail: Arc<Availability>, registries: Arc<Semaphore>) -> Vec<Check> {
    let mut out = Vec::new();
    match &avail.reference {
        Ok(()) => {
            let _permit = registries.acquire().await.expect("semaphore");
            out.push(schema1::distribution_converts_the_same("regsim-conformance-schema1").await);
        }
        Err(why) => out.push(why.check("schema 1 conversion", SCHEMA1)),
    }
    match &avail.daemon {
        Ok(d) => out.extend(schema1::dockerd_stores_the_same(d.clone()).await),
        Err(why) => out.push(Check::skipped("schema 1 pull", SCHEMA1, why.clone())),
    }
    out
}

async fn run() -> bool {
    let started = Instant::now();
    let ci = in_ci();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files = match collect(&[root]) {
        Ok(f) => f,
        Err(e) => {
            println!("conformance: the catalogue cannot be read: {e}");
            return false;
        }
    };
    // While working on a few scenarios: REGSIM_ONLY=seed-003 checks only the files whose name
    // contains that text (refused under CI, which checks the whole catalogue).
    if let Ok(only) = std::env::var("REGSIM_ONLY") {
        if ci {
            println!("conformance: REGSIM_ONLY narrows the suite; CI must run all of it");
            return false;
        }
        files.retain(|f| f.display().to_string().contains(&only));
    }
    let overrides = Overrides {
        docker: Some(regsim_model::versions::parse_version(DOCKER).unwrap()),
        ..Default::default()
    };
    let avail = Arc::new(availability().await);
    let reference = match &avail.reference {
        Err(Unavailable::Missing(why)) => Err(why),
        _ => Ok(()),
    };
    for (what, r) in [
        ("real dockerd", avail.daemon.as_ref().map(|_| ())),
        ("reference registry", reference),
        ("skopeo", avail.skopeo.as_ref().map(|_| ())),
        ("podman and buildah", avail.containers_tools.as_ref().map(|_| ())),
    ] {
        if let Err(why) = r {
            eprintln!("SKIPPED {what}: {why}");
        }
    }
    let registries = Arc::new(Semaphore::new(REGISTRIES_AT_ONCE));
    let skopeos = Arc::new(Semaphore::new(SKOPEO_AT_ONCE));
    let scripts = Arc::new(tokio::sync::Mutex::new(()));

    let mut set = tokio::task::JoinSet::new();
    let mut checks = Vec::new();
    let mut other_platform = Vec::new();
    let mut by_name_scenarios = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let world = match load(&f, &overrides) {
            Ok(w) => w,
            Err(e) => {
                checks.push((i, vec![Check::broken(&name, DOCKERD_VIA_MOCK, e.to_string())]));
                continue;
            }
        };
        // This dockerd pulls for linux/amd64, and every check here is held to what it did: a
        // scenario whose runner host is another platform has nothing to be compared with.
        if let Some(NotComparable::OtherPlatform(p)) = regsim::run::observation::not_comparable(&world) {
            other_platform.push(format!("{name} ({p})"));
            continue;
        }
        by_name_scenarios.push((name.clone(), f.clone(), world.clone()));
        let (a, r, s, t) = (avail.clone(), registries.clone(), skopeos.clone(), scripts.clone());
        set.spawn(async move { (i, scenario_checks(name, f, world, a, r, s, t).await) });
    }
    {
        let (a, r) = (avail.clone(), registries.clone());
        set.spawn(async move { (usize::MAX, forged_checks(a, r).await) });
        let (a, r) = (avail.clone(), registries.clone());
        set.spawn(async move { (usize::MAX - 2, schema1_checks(a, r).await) });
    }
    while let Some(r) = set.join_next().await {
        match r {
            Ok(c) => checks.push(c),
            Err(e) => checks.push((
                usize::MAX - 1,
                vec![Check::broken("(task)", DOCKERD_VIA_MOCK, e.to_string())],
            )),
        }
    }
    checks.sort_by_key(|(i, _)| *i);
    let mut checks: Vec<Check> = checks.into_iter().flat_map(|(_, c)| c).collect();
    // After the others: the scenarios take turns on one private containerd, then on one dockerd in
    // a namespace of its own.
    let worlds: Vec<(String, World)> = by_name_scenarios
        .iter()
        .map(|(n, _, w)| (n.clone(), w.clone()))
        .collect();
    checks.extend(containerd::checks(&worlds, ci).await);
    checks.extend(by_name::checks(by_name_scenarios, ci).await);

    if let Ok(d) = &avail.daemon
        && avail.reference.is_ok()
    {
        d.remove_image(&format!("{}:{}", reference::IMAGE, reference::TAG))
            .await;
    }
    let (text, ok) = table::render(&checks, &other_platform, ci, started.elapsed());
    print!("{text}");
    ok
}
