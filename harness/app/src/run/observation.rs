//! `regsim run --engine real`: a scenario's job through the user's own Docker daemon beside
//! regsim's prediction for that daemon's version, compared line by line, and the observation
//! record (docs/json-observation.md) that a version-table row can be made from.

use super::{Report, RunFailure, racy_layer_status, run_against_real_daemon};
use regsim_clients::engine::real::RealDaemon;
use regsim_model::world::{Executor, World};
use regsim_wire::engine_api::EngineVersion;
use regsim_wire::platform::Platform;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// One scenario's job as regsim predicted it and as the daemon printed it.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub scenario: String,
    pub gitlab: String,
    pub runner: String,
    pub executor: &'static str,
    /// What the daemon said of itself (`GET /version`).
    pub engine: EngineVersion,
    /// The Docker version regsim predicted for (the daemon's, without its build suffix).
    pub predicted_for: String,
    /// The unix socket the daemon answered on.
    pub socket: String,
    /// `YYYY-MM-DD` (UTC) of the run.
    pub observed_on: String,
    /// `regsim --version`'s text, so a record says which model it was compared with.
    pub regsim: String,
    /// The job page's text as regsim predicted it.
    pub prediction: String,
    /// The job page's text with the daemon's answers.
    pub observed: String,
    /// The two texts line by line (layer statuses dockerd may drop left out of both).
    pub lines: Vec<Line>,
    /// Layer-status lines left out of the comparison (racy in dockerd: see `racy_layer_status`).
    pub left_out: usize,
    pub agree: bool,
    /// The daemon's own lines a version table holds: its error responses, as the log shows them.
    pub daemon_lines: Vec<String>,
    /// The source column for a table row made from this record.
    pub source: String,
}

/// A line of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Line {
    /// Both printed it.
    Same { text: String },
    /// Only one printed it, or each printed its own at this place.
    Differ {
        regsim: Option<String>,
        daemon: Option<String>,
    },
}

/// Why a scenario's job cannot be compared with a Docker daemon on loopback: one rule for
/// `run --engine real` and the conformance suite, each of which says it in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotComparable {
    /// The runner host is another platform: a daemon pulls for its own (linux/amd64 here).
    OtherPlatform(Platform),
    /// The kubernetes executor pulls through the node's containerd.
    Kubernetes,
    /// A shell job with no script: nothing reaches a registry.
    NothingReachesARegistry,
    /// The job pulls from Docker Hub, which has no name on 127.0.0.1 (and is never reached).
    DockerHub,
}

impl std::fmt::Display for NotComparable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotComparable::OtherPlatform(p) => write!(f, "the runner host is {p}; compared only on linux/amd64 hosts"),
            NotComparable::Kubernetes => f.write_str(
                "the kubernetes executor pulls through the node's containerd, not a Docker daemon: nothing of this \
                 daemon's to compare",
            ),
            NotComparable::NothingReachesARegistry => {
                f.write_str("the shell executor pulls no image and this job has no script: nothing reaches a registry")
            }
            NotComparable::DockerHub => f.write_str(
                "the job pulls from Docker Hub, which has no name on 127.0.0.1 (and the real Hub is never reached)",
            ),
        }
    }
}

/// Why `world`'s job cannot be compared with a daemon on loopback, if it cannot.
pub fn not_comparable(world: &World) -> Option<NotComparable> {
    if world.docker.platform != Platform::default() {
        return Some(NotComparable::OtherPlatform(world.docker.platform.clone()));
    }
    if world.cluster.is_some() || world.runner.executor == Executor::Kubernetes {
        return Some(NotComparable::Kubernetes);
    }
    if world.runner.executor == Executor::Shell && world.job.script.is_empty() {
        return Some(NotComparable::NothingReachesARegistry);
    }
    if super::pulls_from_docker_hub(world) {
        return Some(NotComparable::DockerHub);
    }
    None
}

/// Runs `world`'s job with the simulated engine and with `daemon` on the same loopback mocks,
/// and compares the job pages.
pub async fn observe(
    world: &World,
    file: &Path,
    daemon: Arc<RealDaemon>,
    engine: &EngineVersion,
    regsim: &str,
) -> Result<Observation, RunFailure> {
    let socket = daemon.socket().display().to_string();
    let (sim, real) = run_against_real_daemon(world, file, daemon).await?;
    Ok(record(&sim, &real, world, engine, &socket, regsim))
}

fn record(
    sim: &Report,
    real: &Report,
    world: &World,
    engine: &EngineVersion,
    socket: &str,
    regsim: &str,
) -> Observation {
    let prediction = sim.job_log.known_text();
    let observed = real.job_log.known_text();
    let kept = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !racy_layer_status(l))
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (kept(&prediction), kept(&observed));
    let left_out = prediction.lines().count() - a.len() + observed.lines().count() - b.len();
    let lines = compare(&a, &b);
    // The raw bytes too: colours and section markers are part of what regsim claims.
    let agree = lines.iter().all(|l| matches!(l, Line::Same { .. })) && raw_agrees(sim, real);
    let daemon_lines = b
        .iter()
        .filter(|l| l.contains("Error response from daemon"))
        .cloned()
        .collect();
    let observed_on = time::OffsetDateTime::now_utc().date().to_string();
    let source = format!(
        "[OBS] dockerd {} ({}, API {}, {}/{}), `regsim run --engine real {}`, {observed_on}",
        engine.version, engine.go_version, engine.api_version, engine.os, engine.arch, sim.file
    );
    Observation {
        scenario: sim.file.clone(),
        gitlab: sim.gitlab.clone(),
        runner: sim.runner.clone(),
        executor: world.runner.executor.as_str(),
        engine: engine.clone(),
        predicted_for: world.docker.version.to_string(),
        socket: socket.to_string(),
        observed_on,
        regsim: regsim.to_string(),
        prediction,
        observed,
        lines,
        left_out,
        agree,
        daemon_lines,
        source,
    }
}

/// The raw traces agree once the racy layer statuses are left out of both.
fn raw_agrees(sim: &Report, real: &Report) -> bool {
    let raw = |r: &Report| {
        let mut t = r.job_log.raw.clone();
        if let Some(s) = &r.job_log.script {
            t.push_str(&s.raw);
        }
        super::without_racy_layer_statuses(&t)
    };
    raw(sim) == raw(real)
}

/// `a` and `b` line by line: a longest common subsequence, the lines outside it paired up in
/// order within each stretch where the two part.
pub fn compare(a: &[String], b: &[String]) -> Vec<Line> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut only_a, mut only_b): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let flush = |out: &mut Vec<Line>, only_a: &mut Vec<String>, only_b: &mut Vec<String>| {
        let len = only_a.len().max(only_b.len());
        let (mut xs, mut ys) = (only_a.drain(..), only_b.drain(..));
        for _ in 0..len {
            out.push(Line::Differ {
                regsim: xs.next(),
                daemon: ys.next(),
            });
        }
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            flush(&mut out, &mut only_a, &mut only_b);
            out.push(Line::Same { text: a[i].clone() });
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            only_b.push(b[j].clone());
            j += 1;
        } else {
            only_a.push(a[i].clone());
            i += 1;
        }
    }
    flush(&mut out, &mut only_a, &mut only_b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn equal_texts_are_all_same() {
        let a = v(&["one", "two"]);
        assert!(compare(&a, &a).iter().all(|l| matches!(l, Line::Same { .. })));
    }

    #[test]
    fn a_changed_line_is_paired_and_an_extra_line_stands_alone() {
        let a = v(&["Running with", "ERROR: old wording", "end"]);
        let b = v(&["Running with", "ERROR: new wording", "end", "extra"]);
        assert_eq!(
            compare(&a, &b),
            vec![
                Line::Same {
                    text: "Running with".into()
                },
                Line::Differ {
                    regsim: Some("ERROR: old wording".into()),
                    daemon: Some("ERROR: new wording".into())
                },
                Line::Same { text: "end".into() },
                Line::Differ {
                    regsim: None,
                    daemon: Some("extra".into())
                },
            ]
        );
    }
}
