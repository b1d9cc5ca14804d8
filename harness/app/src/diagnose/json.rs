//! `regsim diagnose --format json`: the same answer as the text report, as one document for a
//! support bot or a CI job. Documented in `docs/json-diagnose.md` and pinned by a test; add fields,
//! never rename or remove them without bumping `FORMAT`.

use super::bands::{self, Step};
use super::clean::{Line, Shape};
use super::{Diagnosis, Knowledge, show_path};
use regsim_model::scenario::Outcome;
use regsim_model::versions::docker;
use serde::Serialize;
use std::collections::HashSet;

/// Names the document's shape; bumped on any incompatible change.
pub const FORMAT: &str = "regsim-diagnose/1";

#[derive(Debug, Serialize)]
pub struct Document {
    pub format: &'static str,
    /// The log as named on the command line (`-` is `stdin`).
    pub source: String,
    /// Non-empty lines read.
    pub lines: usize,
    pub shape: JsonShape,
    pub catalogue: Catalogue,
    pub recognised: Recognised,
    /// Whether a known failure mode matches (the exit status says the same: 0 or 1).
    pub matched: bool,
    /// The best-ranked failure mode and the log lines it rests on; null when nothing matched.
    pub failure_mode: Option<FailureMode>,
    /// The log's failure-looking lines no catalogue scenario explains (all of them when nothing
    /// matched).
    pub unexplained_failure_lines: Vec<LogLine>,
    /// Causes, best first, at most `--max`.
    pub causes: Vec<Cause>,
    /// How many more causes matched than `causes` shows.
    pub more_causes: usize,
    /// The causes the log cannot tell apart from the first: their rank differs only by the
    /// tie-breaks that are not evidence (a public post reproduces it, the file name).
    pub equally_likely: Vec<String>,
    /// Causes of different kinds that explain the log with the same failure sentences as the
    /// first: none of them is certain. Empty when they all share the first's kind.
    pub ambiguous_causes: Vec<AmbiguousCause>,
    /// When nothing fits: scenarios that say the log's failure sentences but contradict its setup,
    /// best first, at most `--max`, each with why. Empty when a failure mode matched.
    pub contradicting: Vec<Contradicting>,
}

#[derive(Debug, Serialize)]
pub struct Contradicting {
    pub scenario: String,
    pub file: String,
    pub why: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct AmbiguousCause {
    /// The scenario's `fix.cause`.
    pub cause_kind: &'static str,
    /// Its rank among `causes` (1 is the first; it may be beyond `--max`).
    pub rank: usize,
    pub scenario: String,
    /// What to look at, outside the log, to tell it from the others.
    pub how_to_tell: &'static str,
}

#[derive(Debug, Serialize)]
pub struct JsonShape {
    #[serde(flatten)]
    pub shape: Shape,
    /// The same, in the text report's words.
    pub description: String,
}

#[derive(Debug, Serialize)]
pub struct Catalogue {
    pub scenarios: usize,
    pub failure_modes: usize,
    /// Files that could not be run, each with the reason.
    pub skipped: Vec<String>,
    /// `fix.scenario` links that name no succeeding scenario.
    pub fix_problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Recognised {
    pub runner: RunnerRecognised,
    pub docker: DockerRecognised,
}

#[derive(Debug, Serialize)]
pub struct RunnerRecognised {
    /// The `Running with gitlab-runner V (REV)` header, when the log has one.
    pub header: Option<Header>,
    /// Why the log is older than anything regsim models, when something says so.
    pub older_than_modelled: Option<String>,
    /// Modelled releases the log can come from, oldest first; empty with no steps means
    /// "nothing narrows it", empty with steps means "no modelled release prints all of it".
    pub releases: Vec<String>,
    /// The same, as ranges (`16.0.0 – 16.5.0`); null when nothing narrows it.
    pub band: Option<String>,
    pub steps: Vec<JsonStep>,
}

#[derive(Debug, Serialize)]
pub struct Header {
    pub version: String,
    pub revision: String,
}

#[derive(Debug, Serialize)]
pub struct DockerRecognised {
    /// Engine-table rows the log can come from, oldest first.
    pub rows: Vec<EngineRow>,
    pub steps: Vec<JsonStep>,
}

#[derive(Debug, Serialize)]
pub struct EngineRow {
    /// The first Docker Engine version of the row.
    pub since: String,
    /// The row's label, as the text report shows it.
    pub row: &'static str,
    pub source: &'static str,
}

/// One narrowing step: the log line, what it shows, the rule that narrowed the band.
#[derive(Debug, Serialize)]
pub struct JsonStep {
    pub line: Option<usize>,
    pub evidence: String,
    pub rule: String,
}

#[derive(Debug, Serialize)]
pub struct LogLine {
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct FailureMode {
    /// The catalogue scenario (the file's stem) and its file.
    pub scenario: String,
    pub file: String,
    pub evidence: Vec<JsonEvidence>,
}

#[derive(Debug, Serialize)]
pub struct JsonEvidence {
    /// Input line numbers (two when a wrapped line was joined).
    pub lines: Vec<usize>,
    pub text: String,
    /// The line with hosts, images, URLs and ids made placeholders: what was compared.
    pub pattern: String,
    /// A failure line of the scenario's log.
    pub failure: bool,
    /// Only an inner sentence of it matched (the log says it under another wrapper).
    pub partial: bool,
}

#[derive(Debug, Serialize)]
pub struct Cause {
    /// 1 is the best.
    pub rank: usize,
    pub scenario: String,
    pub file: String,
    /// What went wrong: the scenario's description.
    pub cause: String,
    pub fix: Option<Fix>,
    pub matched_lines: usize,
    /// Sum of the matched sentences' weights (inverse document frequency over the catalogue).
    pub score: f64,
    /// The scenario's versions, and whether each agrees with what the log shows (null when the
    /// log gives no band).
    pub runner: String,
    pub runner_in_band: Option<bool>,
    pub docker: String,
    pub docker_in_band: Option<bool>,
    /// The public post the scenario reproduces, if any.
    pub seed: Option<&'static regsim_model::seeds::Seed>,
}

#[derive(Debug, Serialize)]
pub struct Fix {
    pub text: String,
    /// The catalogue scenario where the fix is applied and the job succeeds.
    pub scenario: Option<String>,
}

fn steps(steps: &[Step]) -> Vec<JsonStep> {
    steps
        .iter()
        .map(|s| JsonStep {
            line: s.line,
            evidence: s.evidence.clone(),
            rule: s.rule.clone(),
        })
        .collect()
}

fn log_lines<'a>(lines: impl Iterator<Item = &'a Line>) -> Vec<LogLine> {
    lines
        .map(|l| LogLine {
            line: l.number,
            text: l.text.clone(),
        })
        .collect()
}

fn shape(s: &Shape) -> JsonShape {
    JsonShape {
        shape: s.clone(),
        description: s.describe(),
    }
}

pub fn document(k: &Knowledge, d: &Diagnosis, source: &str, max: usize) -> Document {
    let all = bands::all_runner_releases();
    let runner = RunnerRecognised {
        header: d.runner.header.as_ref().map(|(v, r)| Header {
            version: v.clone(),
            revision: r.clone(),
        }),
        older_than_modelled: d.runner.older_than_modelled.clone(),
        releases: d.runner.releases.iter().map(ToString::to_string).collect(),
        band: (!d.runner.steps.is_empty() && !d.runner.releases.is_empty())
            .then(|| bands::ranges(&all, &d.runner.releases)),
        steps: steps(&d.runner.steps),
    };
    let docker_rows = DockerRecognised {
        rows: d
            .engine
            .rows
            .iter()
            .map(|(since, p)| EngineRow {
                since: docker::shown(since),
                row: p.line,
                source: p.source,
            })
            .collect(),
        steps: steps(&d.engine.steps),
    };
    let failure_mode = d.candidates.first().map(|best| {
        let e = &k.entries[best.entry];
        FailureMode {
            scenario: e.name.clone(),
            file: show_path(&e.file),
            evidence: best
                .evidence
                .iter()
                .map(|ev| JsonEvidence {
                    lines: ev.lines.clone(),
                    text: ev.text.clone(),
                    pattern: ev.pattern.clone(),
                    failure: ev.failure,
                    partial: ev.partial,
                })
                .collect(),
        }
    });
    let explained: HashSet<usize> = d
        .candidates
        .first()
        .map(|b| b.evidence.iter().flat_map(|e| e.lines.iter().copied()).collect())
        .unwrap_or_default();
    let causes = d
        .candidates
        .iter()
        .take(max)
        .enumerate()
        .map(|(i, c)| {
            let e = &k.entries[c.entry];
            Cause {
                rank: i + 1,
                scenario: e.name.clone(),
                file: show_path(&e.file),
                cause: e.description.clone(),
                fix: e.fix.as_ref().map(|f| Fix {
                    text: f.text.trim().to_string(),
                    scenario: f.scenario.as_ref().map(|s| show_path(&e.file.with_file_name(s))),
                }),
                matched_lines: c.evidence.len(),
                score: c.score as f64 / 1000.0,
                runner: e.runner.to_string(),
                runner_in_band: (!d.runner.steps.is_empty()).then_some(c.runner_in_band),
                docker: docker::shown(&e.docker),
                docker_in_band: (!d.engine.steps.is_empty()).then_some(c.engine_in_band),
                seed: e.seed,
            }
        })
        .collect();
    Document {
        format: FORMAT,
        source: source.to_string(),
        lines: d.lines.len(),
        shape: shape(&d.shape),
        catalogue: Catalogue {
            scenarios: k.entries.len(),
            failure_modes: k.entries.iter().filter(|e| e.outcome == Outcome::Fails).count(),
            skipped: k.skipped.clone(),
            fix_problems: k.fix_problems.clone(),
        },
        recognised: Recognised {
            runner,
            docker: docker_rows,
        },
        matched: !d.candidates.is_empty(),
        failure_mode,
        unexplained_failure_lines: log_lines(d.failure_lines.iter().filter(|l| !explained.contains(&l.number))),
        more_causes: d.candidates.len().saturating_sub(max),
        causes,
        equally_likely: d
            .equally_likely()
            .into_iter()
            .map(|i| k.entries[d.candidates[i].entry].name.clone())
            .collect(),
        ambiguous_causes: d
            .ambiguous_causes(k)
            .into_iter()
            .map(|(kind, i)| AmbiguousCause {
                cause_kind: kind.as_str(),
                rank: i + 1,
                scenario: k.entries[d.candidates[i].entry].name.clone(),
                how_to_tell: kind.how_to_tell(),
            })
            .collect(),
        contradicting: d
            .contradicting
            .iter()
            .take(max)
            .map(|c| Contradicting {
                scenario: k.entries[c.entry].name.clone(),
                file: super::show_path(&k.entries[c.entry].file),
                why: c.contradiction(),
            })
            .collect(),
    }
}

pub fn render(k: &Knowledge, d: &Diagnosis, source: &str, max: usize) -> String {
    serde_json::to_string_pretty(&document(k, d, source, max)).expect("diagnosis serialises") + "\n"
}
