//! One scenario end to end — load, build the world, start the mocks, run the job — and the
//! catalogue, every scenario at once. Loading (`load`), the text report (`text`) and the real
//! daemon's run (`real_daemon`) have their own files.

mod load;
pub mod observation;
mod real_daemon;
mod text;

pub use load::{collect, load};
pub use real_daemon::{
    pulls_from_docker_hub, racy_layer_status, run_against_real_daemon, run_by_name_on_real_daemon,
    run_job_on_real_daemon, without_racy_layer_statuses,
};
pub use regsim_model::world::Overrides;
pub use text::{render_text, render_text_coloured, summary_line, verdict_word};

use regsim_clients::engine::{Engine, Reading};
use regsim_model::scenario::{Outcome, ScenarioError};
use regsim_model::seeds::Seed;
use regsim_model::world::World;
use regsim_runner::{JobEnv, JobLog, RunError, run_job};
use regsim_servers::journal::Exchange;
use regsim_servers::{Placement, Stage, StageError};
use regsim_wire::NotModelled;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a scenario produced no report.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    /// The file does not load (located).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Run(#[from] RunError),
    /// A mock server met behaviour regsim does not model while answering this request.
    #[error("{request} → {not_modelled}")]
    NotModelledAnswer { request: String, not_modelled: NotModelled },
    #[error(transparent)]
    Stage(#[from] StageError),
    /// A scenario's task panicked; the others carry on.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RunFailure {
    /// Behaviour regsim does not model, wherever it was met.
    pub fn not_modelled(&self) -> Option<&NotModelled> {
        match self {
            RunFailure::Run(RunError::NotModelled(n)) | RunFailure::NotModelledAnswer { not_modelled: n, .. } => {
                Some(n)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub file: String,
    pub name: String,
    pub description: String,
    pub seed: Option<&'static Seed>,
    pub gitlab: String,
    pub runner: String,
    /// The Docker engine (empty on a kubernetes runner, whose node is `node`).
    pub docker: String,
    /// The kubernetes executor's node: its kubelet and containerd.
    pub node: Option<String>,
    /// Which rules gave the values the scenario left out.
    pub derived: Vec<String>,
    /// The HTTP exchange, in order, as the mocks saw it.
    pub exchange: Vec<Exchange>,
    /// How the engine read the registry's answers and worded its errors (simulated engine only).
    pub engine_trail: Vec<Reading>,
    pub job_log: JobLog,
    /// `job_log.outcome()`: decided once, read by every report format and `regsim matrix`.
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

impl Report {
    /// What pulled the images: `Docker …` or `Kubernetes … · containerd …`.
    pub fn engine_label(&self) -> String {
        match &self.node {
            Some(n) => n.clone(),
            None => format!("Docker {}", self.docker),
        }
    }
}

/// Where the stage's runner runs: its world and its GitLab.
pub fn job_env(stage: &Stage) -> JobEnv<'_> {
    JobEnv {
        world: &stage.world,
        gitlab_url: stage.gitlab.uri(),
        network: stage.network.clone(),
        trust: stage.trust.clone(),
    }
}

/// The stage's simulated engine: the world's Docker host, dialling the stage's mocks.
pub fn simulated_engine(stage: &Stage) -> Engine {
    Engine::simulated(&stage.world.docker, stage.network.clone(), stage.trust.clone())
}

/// Runs the scenario's job against fresh mocks with the simulated engine.
pub async fn run_world(world: &World, file: &Path) -> Result<Report, RunFailure> {
    let stage = Stage::start(world, Placement::Named).await?;
    let engine = simulated_engine(&stage);
    // Earlier runs of a repeated job: same host, same daemon, same proxy cache.
    for _ in 1..world.job.repeat.0 {
        run_job(&job_env(&stage), &engine).await?;
        unmodelled(&stage)?;
        stage.rerun_job();
    }
    // The last run's part of the engine's trail, as the journal holds the last run's exchange.
    let earlier = engine.trail().len();
    let log = run_job(&job_env(&stage), &engine).await?;
    unmodelled(&stage)?;
    let mut r = report(world, file, &stage, log, true);
    r.engine_trail = engine.trail().split_off(earlier);
    Ok(r)
}

/// A mock that met behaviour regsim does not model says so in its journal.
pub(crate) fn unmodelled(stage: &Stage) -> Result<(), RunFailure> {
    match stage.journal.not_modelled() {
        Some((request, not_modelled)) => Err(RunFailure::NotModelledAnswer { request, not_modelled }),
        None => Ok(()),
    }
}

pub(crate) fn report(world: &World, file: &Path, stage: &Stage, log: JobLog, check_lines: bool) -> Report {
    let known = log.known_text();
    let lines: Vec<&str> = known.lines().collect();
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
        let (runs, every) = world.job.repeat;
        let over = if runs > 1 {
            format!("{runs} runs {every} minutes apart")
        } else {
            "this run".to_string()
        };
        // Docker Hub counts per address: GitLab's (the Dependency Proxy's pulls) and the runner
        // host's (its own pulls) apart.
        let direct = stage.docker_hub_direct_rate.lock().expect("rate lock").clone();
        let counters = [
            (
                "GitLab's address (the Dependency Proxy)",
                stage.docker_hub_rate.lock().expect("rate lock").clone(),
            ),
            ("the runner host's address", direct),
        ];
        let both = counters[1].1.gets + counters[1].1.heads > 0;
        for (who, c) in counters {
            let who = match (both, who.starts_with("the runner")) {
                (false, true) => continue,
                (false, false) => String::new(),
                (true, _) => format!(", for {who}"),
            };
            derived.push(format!(
                "Docker Hub over {over}{who}: {} manifest GETs (counted), {} manifest HEADs (not counted); \
                 RateLimit-Remaining {} of {} per 6 h (seed 002)",
                c.gets,
                c.heads,
                hub.rate_limit.saturating_sub(c.used),
                hub.rate_limit
            ));
        }
    }
    let in_pod = world.cluster.is_some();
    derived.extend(log.services.iter().map(|s| {
        let names = if s.links.is_empty() {
            "by no name".to_string()
        } else {
            format!("as {}", s.links.join(", "))
        };
        if in_pod {
            format!(
                "service {} assumed up: a container of the build pod, which regsim does not run; the job reaches it on \
                 127.0.0.1 {names} (the pod's hostAliases: the runner keeps derived names only when they are valid \
                 DNS-1123 subdomains)",
                s.image_name
            )
        } else {
            format!(
                "service {} assumed up: regsim does not simulate service containers, so it takes the container to start \
                 and answer the runner's health check (a failing one adds `*** WARNING: Service … probably didn't start \
                 properly.`, gitlab-runner.md §6); the job reaches it {names}",
                s.image_name
            )
        }
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
        seed: world.seed,
        gitlab: world.gitlab.version.to_string(),
        runner: format!(
            "{} ({})",
            world.runner.version,
            world.runner.release.revision.clone().unwrap_or_default()
        ),
        node: world.cluster.as_ref().map(|c| {
            let platform = if c.platform == regsim_wire::platform::Platform::default() {
                String::new()
            } else {
                format!(" on {}", c.platform)
            };
            format!(
                "Kubernetes {}{platform} · containerd {} ({})",
                c.kubelet, c.containerd.version, c.containerd.source
            )
        }),
        docker: if world.cluster.is_some() {
            String::new()
        } else {
            format!(
                "{}{} ({}; {})",
                regsim_model::versions::docker::shown(&world.docker.version),
                if world.docker.platform == regsim_wire::platform::Platform::default() {
                    String::new()
                } else {
                    format!(" on {}", world.docker.platform)
                },
                world.docker.profile.line,
                world.docker.profile.source
            )
        },
        derived,
        exchange: stage.journal.entries(),
        engine_trail: Vec::new(),
        outcome: log.outcome(),
        expected: world.expect.outcome,
        missing_lines,
        not_reproduced: world.expect.not_reproduced.clone(),
        job_log: log,
    }
}

/// How a batch of scenarios runs: how many at once, and the bar that counts them.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Scenarios in flight at once; 0 runs them all at once (each stage is a handful of threads
    /// waiting on loopback, so the machine's cores are not the limit).
    pub jobs: usize,
    /// Advanced once per finished scenario (hidden, drawing nothing, unless on a terminal).
    pub progress: indicatif::ProgressBar,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            jobs: 0,
            progress: indicatif::ProgressBar::hidden(),
        }
    }
}

impl Batch {
    /// Runs `work` for each of `count` items, at most `self.jobs` at once, advancing the bar as
    /// each finishes; results come back in item order. A task that panics gives `panicked(index, msg)`
    /// in its place: one broken item must not take the others down.
    pub async fn run<T, F, Fut>(&self, count: usize, work: F, panicked: impl Fn(usize, String) -> T) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(usize) -> Fut,
        Fut: std::future::Future<Output = T> + Send + 'static,
    {
        let permits = if self.jobs == 0 { count.max(1) } else { self.jobs };
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(permits));
        let mut set = tokio::task::JoinSet::new();
        let mut ids = std::collections::HashMap::new();
        for i in 0..count {
            let gate = gate.clone();
            let fut = work(i);
            let bar = self.progress.clone();
            let handle = set.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let out = fut.await;
                bar.inc(1);
                (i, out)
            });
            ids.insert(handle.id(), i);
        }
        let mut out: Vec<Option<T>> = (0..count).map(|_| None).collect();
        while let Some(res) = set.join_next_with_id().await {
            match res {
                Ok((_, (i, r))) => out[i] = Some(r),
                Err(e) => {
                    self.progress.inc(1);
                    if let Some(&i) = ids.get(&e.id()) {
                        out[i] = Some(panicked(i, e.to_string()));
                    }
                }
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, r)| r.unwrap_or_else(|| panicked(i, "did not finish".into())))
            .collect()
    }
}

/// Loads and runs every file concurrently; results come back in file order.
pub async fn run_all(files: &[PathBuf], overrides: &Overrides) -> Vec<Result<Report, RunFailure>> {
    run_batch(files, overrides, &Batch::default()).await
}

/// `run_all`, with the batch's limit on scenarios at once and its progress bar.
pub async fn run_batch(files: &[PathBuf], overrides: &Overrides, batch: &Batch) -> Vec<Result<Report, RunFailure>> {
    batch
        .run(
            files.len(),
            |i| {
                let f = files[i].clone();
                let o = overrides.clone();
                async move {
                    match load(&f, &o) {
                        Ok(w) => run_world(&w, &f).await,
                        Err(e) => Err(e.into()),
                    }
                }
            },
            |_, e| Err(RunFailure::Internal(e)),
        )
        .await
}
