//! Reports of a catalogue run for machines: JUnit XML (GitLab shows it in merge requests) and a
//! stable JSON document (`docs/json-report.md`). Both read the run's `Report`s; nothing here
//! runs or decides anything.

pub mod json;
pub mod junit;

use crate::run::Report;
use regsim_model::scenario::Outcome;
use std::path::PathBuf;

/// One scenario file's result: its report, or why it could not be run.
pub struct Entry {
    pub file: PathBuf,
    pub result: Result<Report, crate::run::RunFailure>,
}

/// How a scenario's run compares with its `expect:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    AsExpected,
    NotAsExpected,
    Broken,
}

impl Entry {
    pub fn status(&self) -> Status {
        match &self.result {
            Err(_) => Status::Broken,
            Ok(r) if r.ok() => Status::AsExpected,
            Ok(_) => Status::NotAsExpected,
        }
    }
}

/// Why a run is not as expected, as a one-line message and the first line of the job log that
/// differs from what `expect:` asked for; `None` when it is as expected.
pub fn first_difference(r: &Report) -> Option<Difference> {
    let log = job_log_lines(r);
    if r.outcome != r.expected {
        // The job log's last line says how the pull (or the script) ended.
        let last = log.iter().rev().find(|l| !l.trim().is_empty()).map(|l| l.to_string());
        return Some(Difference {
            message: format!(
                "{} {}, expected it to {}",
                what(r),
                outcome_word(r.outcome),
                outcome_verb(r.expected)
            ),
            expected: None,
            actual: last,
        });
    }
    let missing = r.missing_lines.first()?;
    // The log line that shares the longest prefix with the expected one is the line that
    // differs; with no common prefix at all, say the line is absent.
    let closest = log
        .iter()
        .map(|l| (common_prefix(l, missing), *l))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map(|(_, l)| l.to_string());
    Some(Difference {
        message: match &closest {
            Some(_) => format!("job log line differs from expect.lines: {missing}"),
            None => format!("expected line not in the job log: {missing}"),
        },
        expected: Some(missing.clone()),
        actual: closest,
    })
}

/// The first difference between a run and its expectation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    pub message: String,
    /// The line `expect.lines` asked for (none when the outcome differs).
    pub expected: Option<String>,
    /// The job log's line closest to it, or the log's last line when the outcome differs.
    pub actual: Option<String>,
}

/// The job log's lines as the job page shows them, script block included.
pub fn job_log_lines(r: &Report) -> Vec<&str> {
    let mut lines: Vec<&str> = r.job_log.plain.lines().collect();
    lines.extend(r.job_log.after_preparation().lines());
    lines
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

fn what(r: &Report) -> &'static str {
    r.job_log.stage()
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeds => "succeeds",
        Outcome::Fails => "fails",
    }
}

fn outcome_verb(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeds => "succeed",
        Outcome::Fails => "fail",
    }
}
