//! `regsim matrix`: one scenario across versions — which upgrade changed the job log?

use crate::run::{Batch, Overrides, Report, load, run_world};
use regsim_model::scenario::Outcome;
use regsim_model::versions::{docker, parse_version, runner};
use semver::Version;
use std::path::Path;

/// One representative release per row of the engine table (the last patch regsim knows of, or
/// the boundary release where the row starts within a minor).
pub fn docker_representatives() -> Vec<Version> {
    [
        "18.09.9", "19.03.15", "20.10.7", "20.10.24", "23.0.6", "24.0.9", "25.0.5", "28.5.2", "29.1.0",
    ]
    .iter()
    .map(|v| parse_version(v).expect("static"))
    .filter(|v| *v >= docker::OLDEST_MODELLED)
    .collect()
}

/// The first tag of every runner minor release (x.y.0, or the first patch tagged).
pub fn runner_minors() -> Vec<Version> {
    let mut out: Vec<Version> = Vec::new();
    for v in runner::known_releases() {
        if out.last().is_none_or(|l| (l.major, l.minor) != (v.major, v.minor)) {
            out.push(v);
        }
    }
    out
}

/// `A,B,C` and `A..B` (inclusive, over `known`) → versions, in order.
pub fn expand(spec: &str, known: &[Version]) -> Result<Vec<Version>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once("..") {
            let (a, b) = (
                parse_version(a).map_err(|e| e.to_string())?,
                parse_version(b).map_err(|e| e.to_string())?,
            );
            let hits: Vec<Version> = known.iter().filter(|v| **v >= a && **v <= b).cloned().collect();
            if hits.is_empty() {
                return Err(format!("no known release in {part}"));
            }
            out.extend(hits);
        } else {
            out.push(parse_version(part).map_err(|e| e.to_string())?);
        }
    }
    Ok(out)
}

/// What one combination gave.
pub enum RowOutcome {
    /// The job ran: the report's own outcome (the same value `regsim run` prints).
    Ran(Outcome),
    /// The loader or the run refused the combination: behaviour regsim does not model.
    NotModelled(String),
    /// Something else went wrong.
    Error(String),
}

impl std::fmt::Display for RowOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowOutcome::Ran(Outcome::Succeeds) => f.write_str("succeeds"),
            RowOutcome::Ran(Outcome::Fails) => f.write_str("fails"),
            RowOutcome::NotModelled(why) => write!(f, "not modelled: {why}"),
            RowOutcome::Error(e) => write!(f, "error: {e}"),
        }
    }
}

pub struct Row {
    pub gitlab: String,
    pub runner: String,
    pub docker: String,
    pub outcome: RowOutcome,
    /// The whole log: the runner's job log, then the script's output.
    pub log: Option<String>,
}

/// The job log and the script's output, as one text (both can change with a version).
pub fn whole_log(r: &Report) -> String {
    r.job_log.known_text()
}

/// One combination of versions; `None` keeps the scenario's.
pub type Combination = (Option<Version>, Option<Version>, Option<Version>);

/// Every combination, run concurrently.
pub async fn run(
    path: &Path,
    gitlab: &[Option<Version>],
    runners: &[Option<Version>],
    dockers: &[Option<Version>],
) -> Vec<Row> {
    run_batch(path, gitlab, runners, dockers, &Batch::default()).await
}

/// `run`, with the batch's limit on combinations at once and its progress bar.
pub async fn run_batch(
    path: &Path,
    gitlab: &[Option<Version>],
    runners: &[Option<Version>],
    dockers: &[Option<Version>],
    batch: &Batch,
) -> Vec<Row> {
    let mut combos: Vec<Combination> = Vec::new();
    for g in gitlab {
        for r in runners {
            for d in dockers {
                combos.push((g.clone(), r.clone(), d.clone()));
            }
        }
    }
    let shown = |v: &Option<Version>| v.as_ref().map(Version::to_string).unwrap_or_default();
    batch
        .run(
            combos.len(),
            |i| row(path.to_path_buf(), combos[i].clone()),
            |i, e| {
                let (g, r, d) = &combos[i];
                Row {
                    gitlab: shown(g),
                    runner: shown(r),
                    docker: shown(d),
                    outcome: RowOutcome::Error(format!("internal error: {e}")),
                    log: None,
                }
            },
        )
        .await
}

/// One combination's row.
async fn row(path: std::path::PathBuf, (g, r, d): Combination) -> Row {
    let shown = |v: &Option<Version>| v.as_ref().map(Version::to_string).unwrap_or_default();
    let o = Overrides {
        gitlab: g.clone(),
        runner: r.clone(),
        docker: d.clone(),
    };
    match load(&path, &o) {
        Err(e) => Row {
            gitlab: shown(&g),
            runner: shown(&r),
            docker: d.as_ref().map(docker::shown).unwrap_or_default(),
            outcome: RowOutcome::NotModelled(e.message),
            log: None,
        },
        Ok(w) => {
            let (gitlab, runner, docker) = (
                w.gitlab.version.to_string(),
                w.runner.version.to_string(),
                // A kubernetes runner's column names its node, not a Docker daemon.
                match &w.cluster {
                    Some(c) => format!("k8s {}", c.kubelet),
                    None => docker::shown(&w.docker.version),
                },
            );
            let (outcome, log) = match run_world(&w, &path).await {
                Ok(rep) => (RowOutcome::Ran(rep.outcome), Some(whole_log(&rep))),
                Err(e) => match e.not_modelled() {
                    Some(n) => (RowOutcome::NotModelled(n.reason.clone()), None),
                    None => (RowOutcome::Error(e.to_string()), None),
                },
            };
            Row {
                gitlab,
                runner,
                docker,
                outcome,
                log,
            }
        }
    }
}

/// The first line of `b` that is not the same line of `a`. The `Running with gitlab-runner V (REV)`
/// header always names the release, so it is left out of the comparison.
pub fn first_difference(a: &str, b: &str) -> Option<String> {
    match difference(a, b) {
        LogDifference::Same => None,
        LogDifference::Line(l) => Some(l),
        LogDifference::EndsEarlier => Some("(log ends earlier)".into()),
    }
}

/// How one log differs from another.
enum LogDifference {
    Same,
    /// The first line of the second log that is not the same line of the first.
    Line(String),
    /// The second log is the first one cut short.
    EndsEarlier,
}

fn difference(a: &str, b: &str) -> LogDifference {
    let keep = |l: &&str| !l.starts_with("Running with gitlab-runner ");
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().filter(keep).collect(), b.lines().filter(keep).collect());
    for i in 0..la.len().max(lb.len()) {
        match (la.get(i), lb.get(i)) {
            (Some(x), Some(y)) if x == y => continue,
            (_, Some(y)) => return LogDifference::Line(y.to_string()),
            (Some(_), None) => return LogDifference::EndsEarlier,
            (None, None) => unreachable!(),
        }
    }
    LogDifference::Same
}

/// What a row's log is compared with: the nearest row above that has a log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// The first row with a log: nothing to compare with.
    FirstRow,
    SameLog {
        with_row: usize,
    },
    /// `line`: the first line of this row's log that differs.
    Line {
        with_row: usize,
        line: String,
    },
    /// This row's log is the other one cut short.
    EndsEarlier {
        with_row: usize,
    },
}

/// Each row's difference from the nearest row above with a log (`None`: the row has no log).
pub fn differences(rows: &[Row]) -> Vec<Option<Difference>> {
    let mut prev: Option<usize> = None;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let Some(log) = &r.log else {
            out.push(None);
            continue;
        };
        out.push(Some(match prev {
            None => Difference::FirstRow,
            Some(p) => {
                let earlier = rows[p].log.as_deref().unwrap_or_default();
                match difference(earlier, log) {
                    LogDifference::Same => Difference::SameLog { with_row: p },
                    LogDifference::Line(line) => Difference::Line { with_row: p, line },
                    LogDifference::EndsEarlier => Difference::EndsEarlier { with_row: p },
                }
            }
        }));
        prev = Some(i);
    }
    out
}

/// The table `regsim matrix` prints.
pub fn render(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{:<9} {:<9} {:<9} {:<9} first line that differs from the row above\n",
        "gitlab", "runner", "docker", "outcome"
    ));
    for (r, d) in rows.iter().zip(differences(rows)) {
        let diff = match d {
            None => String::new(),
            Some(Difference::FirstRow) => "(first row)".into(),
            Some(Difference::SameLog { .. }) => "(same log)".into(),
            Some(Difference::Line { line, .. }) => line,
            Some(Difference::EndsEarlier { .. }) => "(log ends earlier)".into(),
        };
        s.push_str(&format!(
            "{:<9} {:<9} {:<9} {:<9} {diff}\n",
            r.gitlab,
            r.runner,
            r.docker,
            r.outcome.to_string()
        ));
    }
    s
}

/// `regsim matrix --format json`: documented in `docs/json-matrix.md`, pinned by a test; add
/// fields, never rename or remove them without bumping `FORMAT`.
pub mod json {
    use super::{Difference, Outcome, Row, RowOutcome, differences};
    use serde::Serialize;

    /// Names the document's shape; bumped on any incompatible change.
    pub const FORMAT: &str = "regsim-matrix/1";

    #[derive(Debug, Serialize)]
    pub struct Document {
        pub format: &'static str,
        pub scenario: String,
        pub rows: Vec<JsonRow>,
    }

    #[derive(Debug, Serialize)]
    pub struct JsonRow {
        pub gitlab: String,
        pub runner: String,
        pub docker: String,
        /// `succeeds`, `fails`, `not_modelled` or `error`.
        pub outcome: &'static str,
        /// Why the row is `not_modelled` or an `error`; null when the job ran.
        pub reason: Option<String>,
        /// Against the nearest row above with a log; null when this row has no log.
        pub difference: Option<Difference>,
        /// The job log and the script's output; null when the job did not run.
        pub log: Option<String>,
    }

    pub fn document(scenario: &str, rows: &[Row]) -> Document {
        let rows = rows
            .iter()
            .zip(differences(rows))
            .map(|(r, difference)| {
                let (outcome, reason) = match &r.outcome {
                    RowOutcome::Ran(Outcome::Succeeds) => ("succeeds", None),
                    RowOutcome::Ran(Outcome::Fails) => ("fails", None),
                    RowOutcome::NotModelled(why) => ("not_modelled", Some(why.clone())),
                    RowOutcome::Error(e) => ("error", Some(e.clone())),
                };
                JsonRow {
                    gitlab: r.gitlab.clone(),
                    runner: r.runner.clone(),
                    docker: r.docker.clone(),
                    outcome,
                    reason,
                    difference,
                    log: r.log.clone(),
                }
            })
            .collect();
        Document {
            format: FORMAT,
            scenario: scenario.to_string(),
            rows,
        }
    }

    pub fn render(scenario: &str, rows: &[Row]) -> String {
        serde_json::to_string_pretty(&document(scenario, rows)).expect("matrix serialises") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_walk_known_releases() {
        let known = runner_minors();
        let v = expand("16.0..16.3", &known).unwrap();
        assert_eq!(
            v.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            ["16.0.0", "16.1.0", "16.2.0", "16.3.0"]
        );
        assert_eq!(expand("14.2.0,16.2.0", &known).unwrap().len(), 2);
        assert!(expand("99.0..99.9", &known).is_err());
        assert_eq!(first_difference("a\nb\n", "a\nc\n").as_deref(), Some("c"));
        assert_eq!(first_difference("a\n", "a\n"), None);
    }
}
