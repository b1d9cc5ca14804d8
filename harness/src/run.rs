//! One scenario end to end — load, build the world, start the mocks, run the job — and the
//! catalogue, every scenario at once.

use crate::engine::Engine;
use crate::engine::real::RealDaemon;
use crate::mock::journal::Exchange;
use crate::mock::{Placement, Stage};
use crate::runner::{JobLog, run_job};
use crate::scenario::{self, Outcome, ScenarioError};
use crate::world::{self, World};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Versions given on the command line, replacing the scenario's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub gitlab: Option<String>,
    pub runner: Option<String>,
    pub docker: Option<String>,
}

/// Reads a scenario file and builds its world.
pub fn load(path: &Path, overrides: &Overrides) -> Result<World, ScenarioError> {
    let (mut s, text) = scenario::load_file(path)?;
    if let Some(v) = &overrides.gitlab {
        s.gitlab.version = v.clone();
    }
    if let Some(v) = &overrides.runner {
        s.runner.version = v.clone();
    }
    if let Some(v) = &overrides.docker {
        s.docker.version = v.clone();
    }
    let world = world::build(path, &text, &s)?;
    check_image_is_served(&world, path, &text)?;
    Ok(world)
}

/// The job's image, as the runner will expand it, must live on a registry the scenario
/// describes: otherwise there is nothing to answer the engine, and inventing an answer (a DNS
/// failure, say) would put words in the log that no source backs.
fn check_image_is_served(world: &World, path: &Path, text: &str) -> Result<(), ScenarioError> {
    let payload = crate::mock::gitlab::job_payload(world);
    let mut images = vec![("job.image".to_string(), payload.expanded_image())];
    for (i, s) in payload.services.iter().enumerate() {
        let name = crate::runner::expand::expand(&s.name, |k| payload.variable(k));
        images.push((
            format!("job.services[{i}]"),
            crate::runner::services::split_name_and_version(&name).image_name,
        ));
    }
    for (field, image) in images {
        check_host(world, path, text, &field, &image)?;
    }
    Ok(())
}

fn check_host(world: &World, path: &Path, text: &str, field: &str, image: &str) -> Result<(), ScenarioError> {
    let host = crate::runner::credentials::image_host(image).to_lowercase();
    let gl = &world.gitlab;
    let gitlab_hosts = [gl.host.to_string().to_lowercase(), gl.host_with_port().to_lowercase()];
    if gitlab_hosts.contains(&host) {
        return check_proxied(world, path, text, field, image);
    }
    let served =
        std::iter::once(world.gitlab.registry.to_string()).chain(world.registries.iter().map(|r| r.host.to_string()));
    if served.map(|h| h.to_lowercase()).any(|h| h == host) {
        return Ok(());
    }
    Err(ScenarioError::at(
        path,
        text,
        field,
        format!(
            "`{image}` is on {host}, which no registry in this scenario serves (GitLab's registry or `registries:`); \
             pulls straight from Docker Hub are not modelled (through a group's Dependency Proxy they are)"
        ),
    ))
}

/// An image pulled through a group's Dependency Proxy: the release must be one regsim models and
/// Docker Hub must hold the image (what the Hub answers for others was never fetched).
fn check_proxied(world: &World, path: &Path, text: &str, field: &str, image: &str) -> Result<(), ScenarioError> {
    let fail = |m: String| Err(ScenarioError::at(path, text, field, m));
    let gl = &world.gitlab;
    let rest = image.split_once('/').map(|(_, r)| r).unwrap_or("");
    let Some((_, upstream)) = rest.split_once("/dependency_proxy/containers/") else {
        return fail(format!(
            "`{image}` is on GitLab's own host, which serves images only through a group's Dependency Proxy \
             (GROUP/dependency_proxy/containers/IMAGE)"
        ));
    };
    if crate::versions::lookup(&crate::versions::gitlab::dependency_proxy_eras(), &gl.version).is_none() {
        return fail(format!(
            "GitLab {} has no Dependency Proxy (it arrived in GitLab Premium 11.11)",
            gl.version
        ));
    }
    let Some(hub) = &world.docker_hub else {
        return fail(format!(
            "`{image}` goes through the Dependency Proxy: describe its upstream under `docker_hub:`"
        ));
    };
    let (name, reference) = match upstream.split_once('@') {
        // `name:tag@digest`: the digest decides, the tag is ignored.
        Some((n, d)) => (
            n.rsplit_once(':')
                .filter(|(_, t)| !t.contains('/'))
                .map_or(n, |(n, _)| n),
            d,
        ),
        None => match upstream.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, t),
            _ => (upstream, "latest"),
        },
    };
    let repository = if name.contains('/') {
        name.to_string()
    } else {
        format!("library/{name}")
    };
    let held = hub
        .images
        .iter()
        .any(|i| i.repository == repository && (i.tag == reference || reference.starts_with("sha256:")));
    if !held {
        return fail(format!(
            "Docker Hub in this scenario has no `{repository}:{reference}`; what the Hub answers for images it does \
             not hold was never fetched (docker-errors.md §9)"
        ));
    }
    Ok(())
}

/// Every `.yaml`/`.yml` under the given files and directories, sorted.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            entries.sort();
            for e in entries {
                if e.is_dir() || matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                    walk(&e, out)?;
                }
            }
        } else {
            out.push(p.to_path_buf());
        }
        Ok(())
    }
    for p in paths {
        walk(p, &mut out)?;
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub file: String,
    pub name: String,
    pub description: String,
    pub seed: Option<String>,
    pub gitlab: String,
    pub runner: String,
    pub docker: String,
    /// Which rules gave the values the scenario left out.
    pub derived: Vec<String>,
    /// The HTTP exchange, in order, as the mocks saw it.
    pub exchange: Vec<Exchange>,
    /// How the engine read the registry's answers and worded its errors (simulated engine only).
    pub engine_trail: Vec<crate::engine::Reading>,
    pub job_log: JobLog,
    pub outcome: Outcome,
    pub expected: Outcome,
    /// `expect.lines` that are not whole lines of the job log.
    pub missing_lines: Vec<String>,
    /// Lines of the seed post the log cannot contain, with the reason (from the scenario).
    pub not_reproduced: Vec<(String, String)>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.outcome == self.expected && self.missing_lines.is_empty()
    }
}

/// Runs the scenario's job against fresh mocks with the simulated engine.
pub async fn run_world(world: &World, file: &Path) -> Result<Report, String> {
    let stage = Stage::start(world, Placement::Named).await;
    let engine = Engine::simulated(&stage);
    // Earlier runs of a repeated job: same host, same daemon, same proxy cache.
    for _ in 1..world.job.repeat.0 {
        run_job(&stage, &engine).await?;
        unmodelled(&stage)?;
        stage.rerun_job();
    }
    // The last run's part of the engine's trail, as the journal holds the last run's exchange.
    let earlier = engine.trail().len();
    let log = run_job(&stage, &engine).await?;
    unmodelled(&stage)?;
    let mut r = report(world, file, &stage, log, true);
    r.engine_trail = engine.trail().split_off(earlier);
    Ok(r)
}

/// A mock that met behaviour regsim does not model says so in its journal note.
fn unmodelled(stage: &Stage) -> Result<(), String> {
    match stage
        .journal
        .entries()
        .into_iter()
        .find(|e| e.note.starts_with(crate::mock::NOT_MODELLED))
    {
        Some(e) => Err(format!("{} {} → {}", e.method, e.target, e.note)),
        None => Ok(()),
    }
}

fn report(world: &World, file: &Path, stage: &Stage, log: JobLog, check_lines: bool) -> Report {
    let mut lines: Vec<&str> = log.plain.lines().collect();
    lines.extend(log.script.iter().flat_map(|s| s.text.lines()));
    // The post's lines are compared with the log's after the edits the post made.
    let lines: Vec<String> = lines.iter().map(|l| world.expect.as_in_post(l)).collect();
    let missing_lines = if check_lines {
        world
            .expect
            .lines
            .iter()
            .filter(|l| !lines.contains(l))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mut derived: Vec<String> = world.notes().into_iter().map(|n| n.0).collect();
    if let Some(hub) = &world.docker_hub {
        let c = stage.docker_hub_rate.lock().expect("rate lock").clone();
        let (runs, every) = world.job.repeat;
        let over = if runs > 1 {
            format!("{runs} runs {every} minutes apart")
        } else {
            "this run".to_string()
        };
        derived.push(format!(
            "Docker Hub over {over}: {} manifest GETs (counted), {} manifest HEADs (not counted); \
             RateLimit-Remaining {} of {} per 6 h (seed 002)",
            c.gets,
            c.heads,
            hub.rate_limit.saturating_sub(c.used),
            hub.rate_limit
        ));
    }
    derived.extend(log.services.iter().map(|s| {
        format!(
            "service {} assumed up: regsim does not simulate service containers, so it takes the container to start and \
             answer the runner's health check (a failing one adds `*** WARNING: Service … probably didn't start properly.`, \
             gitlab-runner.md §6); the job reaches it as {}",
            s.image_name,
            s.links.join(", ")
        )
    }));
    if let Some(script) = &log.script {
        derived.push(script.daemon.clone());
    }
    derived.extend(log.engine_notes.iter().cloned());
    derived.extend(
        log.ignored_sources
            .iter()
            .map(|s| format!("credential source ignored without a word in the log — {s}")),
    );
    Report {
        file: file.display().to_string(),
        name: world.name.clone(),
        description: world.description.clone(),
        seed: world.seed.clone(),
        gitlab: world.gitlab.version.to_string(),
        runner: format!(
            "{} ({})",
            world.runner.version,
            world.runner.release.revision.clone().unwrap_or_default()
        ),
        docker: format!(
            "{}{} ({}; {})",
            crate::versions::docker::shown(&world.docker.version),
            if world.docker.platform == crate::mock::image::Platform::default() {
                String::new()
            } else {
                format!(" on {}", world.docker.platform)
            },
            world.docker.profile.line,
            world.docker.profile.source
        ),
        derived,
        exchange: stage.journal.entries(),
        engine_trail: Vec::new(),
        outcome: if log.image_ready && log.script.as_ref().is_none_or(|s| s.failed_with.is_none()) {
            Outcome::Succeeds
        } else {
            Outcome::Fails
        },
        expected: world.expect.outcome,
        missing_lines,
        not_reproduced: world.expect.not_reproduced.clone(),
        job_log: log,
    }
}

/// Loads and runs every file concurrently; results come back in file order.
pub async fn run_all(files: &[PathBuf], overrides: &Overrides) -> Vec<Result<Report, String>> {
    let mut set = tokio::task::JoinSet::new();
    for (i, f) in files.iter().enumerate() {
        let f = f.clone();
        let o = overrides.clone();
        set.spawn(async move {
            let r = match load(&f, &o) {
                Ok(w) => run_world(&w, &f).await,
                Err(e) => Err(e.to_string()),
            };
            (i, r)
        });
    }
    let mut out: Vec<Option<Result<Report, String>>> = (0..files.len()).map(|_| None).collect();
    while let Some(res) = set.join_next().await {
        match res {
            Ok((i, r)) => out[i] = Some(r),
            Err(e) => {
                // A panic in one scenario must not take the others down; say which.
                let msg = format!("internal error: {e}");
                if let Some(slot) = out.iter_mut().find(|s| s.is_none()) {
                    *slot = Some(Err(msg));
                }
            }
        }
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err("scenario did not finish".into())))
        .collect()
}

/// The same job on the same loopback mocks twice: once with the simulated engine at `docker`,
/// once with the real daemon. Returns (simulated, real) reports.
pub async fn run_against_real_daemon(
    world: &World,
    file: &Path,
    daemon: Arc<RealDaemon>,
) -> Result<(Report, Report), String> {
    let stage = Stage::start(world, Placement::Loopback).await;
    let sim = Engine::simulated(&stage);
    let sim_log = run_job(&stage, &sim).await?;
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
pub async fn run_job_on_real_daemon(stage: &Stage, daemon: &RealDaemon) -> Result<JobLog, String> {
    let payload = crate::mock::gitlab::job_payload(&stage.world);
    let services = payload.services.iter().map(|s| {
        let name = crate::runner::expand::expand(&s.name, |k| payload.variable(k));
        crate::runner::services::split_name_and_version(&name).image_name
    });
    let names: Vec<String> = std::iter::once(payload.expanded_image())
        .chain(services)
        .chain(crate::runner::script::created_images(&payload, &stage.world.job))
        .collect();
    let _turns = daemon.take_turns(&names).await;
    for name in &names {
        daemon.remove_image(name).await;
        daemon.remove_loopback_twins(name).await;
    }
    let log = run_job(stage, &Engine::Real(daemon.clone())).await;
    for name in &names {
        daemon.remove_image(name).await;
    }
    log
}

/// The text report: description, versions, derived defaults, the exchange, the job log, outcome.
pub fn render_text(r: &Report, raw: bool) -> String {
    let mut s = String::new();
    s.push_str(&format!("━━ {}\n", r.file));
    s.push_str(&format!("{}\n", r.description));
    if let Some(seed) = &r.seed {
        s.push_str(&format!("Reproduces: shared/seeds/{seed}\n"));
    }
    s.push_str(&format!(
        "GitLab {} · gitlab-runner {} · Docker {}\n",
        r.gitlab, r.runner, r.docker
    ));
    if !r.derived.is_empty() {
        s.push_str("Derived:\n");
        for d in &r.derived {
            s.push_str(&format!("  - {d}\n"));
        }
    }
    s.push_str("Exchange:\n");
    for (i, e) in r.exchange.iter().enumerate() {
        let creds = if e.credentials.is_empty() {
            String::new()
        } else {
            format!(" [{}]", e.credentials)
        };
        s.push_str(&format!(
            "  {:>2}. {:<8} {} {}{creds} → {} {}\n",
            i + 1,
            e.server,
            e.method,
            e.target,
            e.status,
            e.note
        ));
    }
    let log = if raw { &r.job_log.raw } else { &r.job_log.plain };
    s.push_str(if raw {
        "--- job log (raw bytes) ---\n"
    } else {
        "--- job log ---\n"
    });
    if raw && r.job_log.timestamps_unmodelled {
        s.push_str("(gitlab-runner 18.7+ prefixes raw lines with timestamps by default; regsim does not write them)\n");
    }
    s.push_str(log);
    if !log.ends_with('\n') {
        s.push('\n');
    }
    s.push_str("--- end of job log");
    match &r.job_log.script {
        Some(script) => {
            s.push_str(" (the image is ready) ---\n");
            s.push_str("--- script: the job image's Docker CLI (stage headers, git output and the final line are not simulated) ---\n");
            s.push_str(&script.text);
            s.push_str("--- end of script");
            if let Some(code) = script.failed_with {
                s.push_str(&format!(" (exit code {code})"));
            }
            s.push_str(" ---\n");
        }
        None if r.job_log.image_ready => {
            s.push_str(" (the image is ready; the job's script and later stages are not simulated) ---\n")
        }
        None => s.push_str(" ---\n"),
    }
    let verdict = if r.ok() { "as expected" } else { "NOT AS EXPECTED" };
    let what = if r.job_log.script.is_some() {
        "job"
    } else {
        "image pull"
    };
    s.push_str(&format!(
        "Outcome: {what} {} (expected: {}) — {verdict}\n",
        outcome_word(r.outcome),
        outcome_word(r.expected)
    ));
    for m in &r.missing_lines {
        s.push_str(&format!("  missing line: {m}\n"));
    }
    for (line, why) in &r.not_reproduced {
        s.push_str(&format!("  post line not reproduced: {line}\n    why: {why}\n"));
    }
    s
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeds => "succeeds",
        Outcome::Fails => "fails",
    }
}
