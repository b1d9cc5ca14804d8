//! `regsim run --format json`: one document for the whole run. Its fields are documented in
//! `docs/json-report.md` and pinned by a test; add fields, never rename or remove them without
//! bumping `FORMAT`.

use super::{Difference, Entry, Status, first_difference};
use regsim_servers::journal::{Exchange, Rule};
use serde::Serialize;

/// Names the document's shape; bumped on any incompatible change.
pub const FORMAT: &str = "regsim-report/1";

#[derive(Debug, Serialize)]
pub struct Document {
    pub format: &'static str,
    pub summary: Summary,
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub scenarios: usize,
    pub as_expected: usize,
    pub not_as_expected: usize,
    pub broken: usize,
}

#[derive(Debug, Serialize)]
pub struct Scenario {
    pub file: String,
    pub status: Status,
    /// Why the file could not be run (`status: broken`), else null.
    pub error: Option<String>,
    /// Everything below is null for a broken file.
    pub name: Option<String>,
    pub description: Option<String>,
    /// The seed post's number (`001`).
    pub seed: Option<String>,
    /// The seed post itself: `title` and `url` (null where unknown).
    pub seed_post: Option<&'static regsim_model::seeds::Seed>,
    pub versions: Option<Versions>,
    pub derived: Vec<String>,
    pub exchange: Vec<ExchangeEntry>,
    pub job_log: Option<JobLog>,
    pub outcome: Option<regsim_model::scenario::Outcome>,
    pub expected: Option<regsim_model::scenario::Outcome>,
    pub missing_lines: Vec<String>,
    pub first_difference: Option<Difference>,
}

#[derive(Debug, Serialize)]
pub struct Versions {
    pub gitlab: String,
    /// `16.2.0 (782e15da)`: the release and its revision.
    pub runner: String,
    /// The engine version, its behaviour row and that row's source.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub docker: String,
    /// The kubernetes executor's node (kubelet and containerd).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExchangeEntry {
    pub server: String,
    pub method: String,
    pub target: String,
    pub credentials: String,
    pub status: u16,
    pub note: String,
    /// The decisions behind the answer, as GitLab's policy took them.
    pub rules: Vec<Rule>,
}

impl From<&Exchange> for ExchangeEntry {
    fn from(e: &Exchange) -> Self {
        ExchangeEntry {
            server: e.server.clone(),
            method: e.method.clone(),
            target: e.target.clone(),
            credentials: e.credentials.clone(),
            status: e.status,
            note: e.note.clone(),
            rules: e.rules.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct JobLog {
    /// The job page's text.
    pub text: String,
    /// The bytes the runner writes (ANSI colours, section markers).
    pub raw: String,
    pub image_ready: bool,
    /// The job script's `docker` lines and their output, when the job has a script.
    pub script: Option<String>,
    pub script_exit_code: Option<i32>,
    /// The job log from the user script's section to its last line, after stages regsim does
    /// not simulate (null when the script did not run).
    pub continued: Option<regsim_runner::Continued>,
    /// Each section's header and the duration the job page shows beside it (`MM:SS`).
    pub sections: Vec<regsim_runner::trace::Section>,
}

pub fn document(entries: &[Entry]) -> Document {
    let count = |s: Status| entries.iter().filter(|e| e.status() == s).count();
    Document {
        format: FORMAT,
        summary: Summary {
            scenarios: entries.len(),
            as_expected: count(Status::AsExpected),
            not_as_expected: count(Status::NotAsExpected),
            broken: count(Status::Broken),
        },
        scenarios: entries.iter().map(scenario).collect(),
    }
}

fn scenario(e: &Entry) -> Scenario {
    match &e.result {
        Err(error) => Scenario {
            file: e.file.display().to_string(),
            status: Status::Broken,
            error: Some(error.to_string()),
            name: None,
            description: None,
            seed: None,
            seed_post: None,
            versions: None,
            derived: Vec::new(),
            exchange: Vec::new(),
            job_log: None,
            outcome: None,
            expected: None,
            missing_lines: Vec::new(),
            first_difference: None,
        },
        Ok(r) => Scenario {
            file: r.file.clone(),
            status: e.status(),
            error: None,
            name: Some(r.name.clone()),
            description: Some(r.description.clone()),
            seed: r.seed.map(|s| s.id.to_string()),
            seed_post: r.seed,
            versions: Some(Versions {
                gitlab: r.gitlab.clone(),
                runner: r.runner.clone(),
                docker: r.docker.clone(),
                node: r.node.clone(),
            }),
            derived: r.derived.clone(),
            exchange: r.exchange.iter().map(ExchangeEntry::from).collect(),
            job_log: Some(JobLog {
                text: r.job_log.plain.clone(),
                raw: r.job_log.raw.clone(),
                image_ready: r.job_log.image_ready,
                script: r.job_log.script.as_ref().map(|s| s.text.clone()),
                script_exit_code: r.job_log.script.as_ref().and_then(|s| s.failed_with),
                continued: r.job_log.continued.clone(),
                sections: r.job_log.sections.clone(),
            }),
            outcome: Some(r.outcome),
            expected: Some(r.expected),
            missing_lines: r.missing_lines.clone(),
            first_difference: first_difference(r),
        },
    }
}

pub fn render(entries: &[Entry]) -> String {
    serde_json::to_string_pretty(&document(entries)).expect("report serialises")
}
