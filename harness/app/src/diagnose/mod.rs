//! `regsim diagnose`: a pasted job log → the catalogue scenarios whose simulated logs say the
//! same sentences, the versions the log can come from, the fixes, and a scenario reproducing it.
//!
//! The catalogue is the knowledge. Every scenario is run (concurrently, as `regsim run` does);
//! each line of its simulated log becomes a pattern (`pattern.rs`: hosts, images, URLs, ids,
//! call sites and the runner's name become placeholders). A pasted line matches a scenario when
//! their patterns are equal. Lines that many scenarios print (the header, `Pulling docker image`)
//! weigh little, lines few print weigh much (inverse document frequency over the catalogue); a
//! scenario's failure lines (`ERROR:`, `WARNING: Failed to pull`, `[error]`, a failed script's last
//! line) count double. Failing scenarios are the failure modes: their description says what
//! happened, their `fix:` how to fix it. Nothing about a particular failure is written here.

pub mod bands;
pub mod clean;
pub mod emit;
pub mod index;
pub mod json;
pub mod pattern;
pub mod registry;

use crate::run::{Batch, Overrides, collect, load, run_world};
use bands::{EngineBand, RunnerBand};
use clean::{Line, Shape};
use regsim_model::scenario::{self, FixSpec, Outcome};
use semver::Version;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// `./scenarios` when it is a directory, else the scenarios of the repository regsim was built
/// from.
/// The most of a pasted log diagnose reads: four times gitlab-runner's default trace limit
/// (`DefaultTraceOutputLimit = 4 * 1024 * 1024` in common/consts.go; `output_limit` in KiB
/// overrides it), after which the runner cuts the job log off.
pub const MAX_LOG_BYTES: u64 = 16 * 1024 * 1024;

/// The log to read (`-` is stdin) and how to name it: a regular file (a FIFO could block, a
/// device never end), at most [`MAX_LOG_BYTES`].
pub fn read_log(file: &std::path::Path) -> Result<(Vec<u8>, String), String> {
    use std::io::Read;
    let (reader, name): (Box<dyn Read>, String) = if file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), "stdin".into())
    } else {
        let name = file.display().to_string();
        let meta = std::fs::metadata(file).map_err(|e| format!("{name}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{name}: not a regular file"));
        }
        (
            Box::new(std::fs::File::open(file).map_err(|e| format!("{name}: {e}"))?),
            name,
        )
    };
    let mut buf = Vec::new();
    reader
        .take(MAX_LOG_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{name}: {e}"))?;
    if buf.len() as u64 > MAX_LOG_BYTES {
        return Err(format!(
            "{name}: more than {} MiB; a job log is cut off at gitlab-runner's output_limit (4 MiB by default)",
            MAX_LOG_BYTES / (1024 * 1024)
        ));
    }
    Ok((buf, name))
}

/// The catalogue diagnose learns from without `--catalogue`: `$REGSIM_CATALOGUE` (the container
/// image sets it to the catalogue it carries), else `scenarios/` here, else the source tree's.
pub fn default_catalogue() -> PathBuf {
    if let Some(dir) = std::env::var_os("REGSIM_CATALOGUE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let here = PathBuf::from("scenarios");
    if here.is_dir() {
        here
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios"))
    }
}

/// One line of a scenario's simulated log.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScenarioLine {
    pub text: String,
    pub pattern: pattern::Pattern,
    pub failure: bool,
    /// Printed by the script's failing command (its error may take several lines: `errors:`,
    /// `denied: …`, `unauthorized: …`); which of them are failure lines is decided once the
    /// whole catalogue is known (`Knowledge::mark_failing_command_lines`).
    pub in_failing_command: bool,
}

/// A catalogue scenario as diagnose knows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub seed: Option<&'static regsim_model::seeds::Seed>,
    pub fix: Option<FixSpec>,
    pub outcome: Outcome,
    pub runner: Version,
    pub docker: Version,
    pub executor: regsim_model::world::Executor,
    /// Distinct lines of the simulated log (job log, then script), in order.
    pub lines: Vec<ScenarioLine>,
    /// The kinds of registry its images come from (`registry::classes` of its lines).
    pub registries: std::collections::BTreeSet<registry::RegistryClass>,
}

#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub entries: Vec<Entry>,
    /// Scenario files that could not be run, with the reason (reported, never fatal).
    pub skipped: Vec<String>,
    /// `fix.scenario` entries that name no succeeding scenario (reported, never fatal).
    pub fix_problems: Vec<String>,
    /// Pattern → how many scenarios print it.
    df: HashMap<String, usize>,
    /// Inner sentence of a failure line (`pattern::tails`) → how many scenarios say it.
    tail_df: HashMap<String, usize>,
    /// Read from the index of an earlier run (`index`), not run now.
    pub from_index: bool,
}

/// Failure lines by their shape in the runner's and the CLI's output.
fn is_failure_line(t: &str) -> bool {
    let t = t.trim_start();
    t.starts_with("ERROR: ") || t.starts_with("WARNING: Failed to pull") || t.starts_with("[error] ")
}

impl Knowledge {
    /// Runs every scenario under `dir` concurrently and keeps their logs as patterns.
    pub async fn build(dir: &Path) -> Result<Knowledge, String> {
        Self::build_with(dir, &Batch::default()).await
    }

    /// `build`, with the batch's limit on scenarios at once and its progress bar.
    pub async fn build_with(dir: &Path, batch: &Batch) -> Result<Knowledge, String> {
        let files = collect(&[dir.to_path_buf()])?;
        batch.progress.set_length(files.len() as u64);
        let done = batch
            .run(
                files.len(),
                |i| {
                    let f = files[i].clone();
                    async move {
                        let r = async {
                            let (s, _) = scenario::load_file(&f).map_err(|e| e.to_string())?;
                            let world = load(&f, &Overrides::default()).map_err(|e| e.to_string())?;
                            let rep = run_world(&world, &f).await.map_err(|e| e.to_string())?;
                            Ok::<_, String>((s, world, rep))
                        }
                        .await;
                        (f, r)
                    }
                },
                |i, e| (files[i].clone(), Err(format!("internal error: {e}"))),
            )
            .await;
        let mut k = Knowledge::default();
        for (f, r) in done {
            match r {
                Ok((s, world, rep)) => {
                    // (line, a failure line, printed by the script's failing command)
                    let mut texts: Vec<(String, bool, bool)> = Vec::new();
                    for l in rep.job_log.plain.lines() {
                        texts.push((l.to_string(), is_failure_line(l), false));
                    }
                    if let Some(script) = &rep.job_log.script {
                        let all: Vec<&str> = script.text.lines().collect();
                        let failed = script.failed_with.is_some();
                        // The failing command's output: what follows its `$ ` echo line.
                        let from = all.iter().rposition(|l| l.starts_with("$ ")).map_or(0, |i| i + 1);
                        for (i, l) in all.iter().enumerate() {
                            let last = i + 1 == all.len() && failed;
                            texts.push((l.to_string(), is_failure_line(l) || last, failed && i >= from));
                        }
                    }
                    let mut seen = HashSet::new();
                    let mut lines = Vec::new();
                    // Every text, the post's variants included even when their pattern is the
                    // printed line's: a post that wrote a host as `hoge` shows a Docker Hub-shaped
                    // name, and the scenario then fits a log with that name.
                    let mut all_texts = Vec::new();
                    for (t, failure, in_failing_command) in texts {
                        if t.trim().is_empty() {
                            continue;
                        }
                        // The line as printed and, when the scenario reproduces a post that
                        // edited its lines, as the post shows it.
                        for variant in [t.clone(), world.expect.as_in_post(&t)] {
                            all_texts.push(variant.clone());
                            let p = pattern::pattern(&variant);
                            if seen.insert(p.text.clone()) {
                                lines.push(ScenarioLine {
                                    text: variant,
                                    pattern: p,
                                    failure,
                                    in_failing_command,
                                });
                            }
                        }
                    }
                    if let Some(name) = s.fix.as_ref().and_then(|x| x.scenario.as_ref())
                        && let Err(e) = scenario::check_fix_scenario(&f, name)
                    {
                        k.fix_problems.push(format!("{}: {e}", f.display()));
                    }
                    k.entries.push(Entry {
                        file: f.clone(),
                        name: world.name.clone(),
                        description: s.description.trim().to_string(),
                        seed: world.seed,
                        fix: s.fix.clone(),
                        outcome: rep.outcome,
                        runner: world.runner.version.clone(),
                        docker: world.docker.version.clone(),
                        executor: world.runner.executor,
                        registries: registry::classes(all_texts.iter().map(String::as_str)),
                        lines,
                    });
                }
                Err(e) => k.skipped.push(format!("{}: {e}", f.display())),
            }
        }
        k.mark_failing_command_lines();
        k.recount();
        Ok(k)
    }

    /// A line the script's failing command printed is a failure line when no succeeding scenario
    /// prints the same sentence (progress such as `⟨id⟩: Preparing` or `The push refers to
    /// repository` is printed by pushes that work too) and it says at least three words. Then a
    /// log that shows only one line of a multi-line error (`denied: requested access to the
    /// resource is denied`) still meets every scenario whose failing command printed it.
    fn mark_failing_command_lines(&mut self) {
        let succeeding: HashSet<String> = self
            .entries
            .iter()
            .filter(|e| e.outcome != Outcome::Fails)
            .flat_map(|e| e.lines.iter().map(|l| l.pattern.text.clone()))
            .collect();
        for e in self.entries.iter_mut().filter(|e| e.outcome == Outcome::Fails) {
            for l in e.lines.iter_mut().filter(|l| l.in_failing_command && !l.failure) {
                l.failure = !succeeding.contains(&l.pattern.text) && l.pattern.text.split_whitespace().count() >= 3;
            }
        }
    }

    /// The catalogue-wide counts the weights read: how many scenarios print each line pattern,
    /// and how many say each inner sentence of a failure line.
    fn recount(&mut self) {
        self.df.clear();
        self.tail_df.clear();
        for e in &self.entries {
            let patterns: HashSet<&str> = e.lines.iter().map(|l| l.pattern.text.as_str()).collect();
            for p in patterns {
                *self.df.entry(p.to_string()).or_default() += 1;
            }
            let tails: HashSet<String> = e
                .lines
                .iter()
                .filter(|l| l.failure)
                .flat_map(|l| pattern::tails(&l.pattern.text))
                .collect();
            for t in tails {
                *self.tail_df.entry(t).or_default() += 1;
            }
        }
    }

    /// Weight of a pattern, in thousandths: ln(1 + N / df).
    fn weight(&self, p: &str) -> u64 {
        Self::idf(self.entries.len(), self.df.get(p).copied())
    }

    /// An inner sentence's weight: half a whole line's of the same rarity (it says less).
    fn tail_weight(&self, t: &str) -> u64 {
        Self::idf(self.entries.len(), self.tail_df.get(t).copied()) / 2
    }

    fn idf(n: usize, df: Option<usize>) -> u64 {
        let n = n.max(1) as f64;
        let df = df.unwrap_or(1).max(1) as f64;
        ((1.0 + n / df).ln() * 1000.0).round() as u64
    }
}

/// A pasted line (or two wrapped lines joined) that matched.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// Input line numbers (two when a wrapped line was joined).
    pub lines: Vec<usize>,
    pub text: String,
    pub pattern: String,
    pub failure: bool,
    /// Only an inner sentence matched (`pattern::tails`): the log says it under another
    /// wrapper, so the scenario does not print this line as it is.
    pub partial: bool,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub entry: usize,
    pub score: u64,
    pub evidence: Vec<Evidence>,
    /// The scenario's failure patterns the log does not show.
    pub unmatched_failures: usize,
    /// How well the scenario's executor fits what the log shows (`executor_fit`).
    pub executor_fit: u8,
    /// 0 when the scenario's images come from another kind of registry than every image the
    /// log names (`registry::fit`), else 1.
    pub registry_fit: u8,
    /// 0 when the log shows a push (`The push refers to repository`) and the scenario pushes
    /// nothing: its failure is a pull's, which the log is past.
    pub operation_fit: u8,
    pub runner_in_band: bool,
    pub engine_in_band: bool,
    /// The scenario's lines the log contains word for word (same hosts, paths, durations).
    pub verbatim: usize,
}

#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub lines: Vec<Line>,
    pub shape: Shape,
    pub runner: RunnerBand,
    pub engine: EngineBand,
    /// Failing scenarios that share at least one failure line with the log and fit it, best
    /// first.
    pub candidates: Vec<Candidate>,
    /// When the best match contradicts what the log says about the setup (another kind of
    /// registry, a pull's failure in a log that is pushing), no answer is given: the scenarios that
    /// share its sentences are kept here, best first, to say what is near and why it does not fit.
    pub contradicting: Vec<Candidate>,
    /// The log's lines that look like failures (whether or not anything matched them).
    pub failure_lines: Vec<Line>,
}

/// The pasted lines, plus each pair of neighbours joined by a space: documentation and
/// e-mail wrap long runner lines in two (seed 002 does).
fn with_joins(lines: &[Line]) -> Vec<(Vec<usize>, String)> {
    let mut out: Vec<(Vec<usize>, String)> = lines
        .iter()
        .map(|l| (vec![l.number], l.text.trim().to_string()))
        .collect();
    for w in lines.windows(2) {
        out.push((
            vec![w[0].number, w[1].number],
            format!("{} {}", w[0].text.trim(), w[1].text.trim()),
        ));
    }
    out
}

/// What the log says of its executor: the section header's name (12.9 →), else the docker
/// family's or another executor's own first line; `None` when it shows none.
fn log_executor(lines: &[Line]) -> Option<String> {
    static HEADER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"Preparing the "([^"]+)" executor"#).expect("constant pattern")
    });
    let header = &*HEADER;
    for l in lines {
        if let Some(c) = header.captures(&l.text) {
            return Some(c[1].to_string());
        }
    }
    lines.iter().find_map(|l| {
        let t = l.text.trim_start();
        if t.starts_with("Using Docker executor") {
            Some("docker-family".to_string())
        } else if t.starts_with("Using Kubernetes executor") {
            Some("kubernetes".to_string())
        } else if t.starts_with("Using Shell") {
            Some("shell".to_string())
        } else {
            None
        }
    })
}

/// How well a scenario's executor fits the log's: its own name 2; the docker executor when the log
/// shows only the docker family's lines, or nothing, 1 (the default executor); else 0.
fn executor_fit(log: Option<&str>, scenario: regsim_model::world::Executor) -> u8 {
    use regsim_model::world::Executor;
    match log {
        Some("docker-family") => match scenario {
            Executor::Docker => 2,
            Executor::DockerMachine | Executor::DockerAutoscaler => 1,
            _ => 0,
        },
        Some(name) => 2 * u8::from(name == scenario.as_str()),
        None => u8::from(scenario == Executor::Docker),
    }
}

pub fn diagnose(k: &Knowledge, input: &[u8]) -> Diagnosis {
    let (lines, shape) = clean::clean(input);
    let executor = log_executor(&lines);
    let log_registries = registry::classes(lines.iter().map(|l| l.text.as_str()));
    let log_pushes = lines.iter().any(|l| shows_push(&l.text));
    let runner = bands::runner_band(&lines);
    let engine = bands::engine_band(&lines);
    let pasted: Vec<(Vec<usize>, String, String)> = with_joins(&lines)
        .into_iter()
        .map(|(n, t)| {
            let p = pattern::pattern(&t).text;
            (n, t, p)
        })
        .collect();
    let mut by_pattern: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, _, p)) in pasted.iter().enumerate() {
        by_pattern.entry(p.as_str()).or_default().push(i);
    }
    // The inner sentences the pasted lines say (a pasted line may itself be one: a client that
    // printed only the registry's words).
    let mut by_tail: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (_, _, p)) in pasted.iter().enumerate() {
        let whole = pattern::without_trailers(p);
        for t in std::iter::once(whole.to_string()).chain(pattern::tails(p)) {
            by_tail.entry(t).or_default().push(i);
        }
    }
    let mut candidates = Vec::new();
    for (ei, e) in k.entries.iter().enumerate() {
        if e.outcome != Outcome::Fails {
            continue;
        }
        let mut score = 0;
        let mut evidence = Vec::new();
        let mut failures_matched = 0;
        let mut unmatched_failures = 0;
        let mut used: HashSet<usize> = HashSet::new();
        // Whole sentences first, so that a line the log says as it is claims its input lines
        // before an inner sentence of another line can.
        let mut pending = Vec::new();
        for sl in &e.lines {
            match by_pattern.get(sl.pattern.text.as_str()) {
                Some(hits) => {
                    let w = k.weight(&sl.pattern.text);
                    score += if sl.failure { 2 * w } else { w };
                    if sl.failure {
                        failures_matched += 1;
                    }
                    for &h in hits {
                        let (n, t, p) = &pasted[h];
                        if n.iter().all(|x| used.insert(*x)) {
                            evidence.push(Evidence {
                                lines: n.clone(),
                                text: t.clone(),
                                pattern: p.clone(),
                                failure: sl.failure,
                                partial: false,
                            });
                        }
                    }
                }
                None if sl.failure => pending.push(sl),
                None => {}
            }
        }
        // Then layer by layer: the longest inner sentence of each failure line the log does not
        // say whole, at half weight, from input lines no whole sentence claimed.
        for sl in pending {
            let inner = pattern::tails(&sl.pattern.text).into_iter().find_map(|t| {
                let free: Vec<usize> = by_tail
                    .get(&t)?
                    .iter()
                    .copied()
                    .filter(|&h| pasted[h].0.iter().all(|x| !used.contains(x)))
                    .collect();
                (!free.is_empty()).then_some((t, free))
            });
            let Some((t, hits)) = inner else {
                unmatched_failures += 1;
                continue;
            };
            score += k.tail_weight(&t);
            failures_matched += 1;
            for h in hits {
                let (n, text, p) = &pasted[h];
                if n.iter().all(|x| used.insert(*x)) {
                    evidence.push(Evidence {
                        lines: n.clone(),
                        text: text.clone(),
                        pattern: p.clone(),
                        failure: true,
                        partial: true,
                    });
                }
            }
        }
        if failures_matched == 0 {
            continue;
        }
        evidence.sort_by_key(|ev| ev.lines[0]);
        let verbatim = e
            .lines
            .iter()
            .filter(|sl| pasted.iter().any(|(_, t, _)| *t == sl.text))
            .count();
        candidates.push(Candidate {
            verbatim,
            entry: ei,
            score,
            evidence,
            unmatched_failures,
            executor_fit: executor_fit(executor.as_deref(), e.executor),
            registry_fit: registry::fit(&log_registries, &e.registries),
            operation_fit: u8::from(!log_pushes || e.lines.iter().any(|l| shows_push(&l.text))),
            runner_in_band: runner.steps.is_empty() || runner.releases.contains(&e.runner),
            engine_in_band: engine.steps.is_empty() || engine.contains(&e.docker),
        });
    }
    // Best first: a scenario whose images come from the kind of registry the log's do (a GitLab
    // allowlist cannot explain a Docker Hub image), then the sentences matched (weighted), then
    // the executor the log shows, then
    // agreement with the versions the log shows, then fewer failure lines the log lacks, then more lines the log has word for word
    // (the scenario written for this very log), then scenarios that reproduce a public post
    // (a cause seen in the wild), then the file name.
    candidates.sort_by(|a, b| {
        let ea = &k.entries[a.entry];
        let eb = &k.entries[b.entry];
        b.registry_fit
            .cmp(&a.registry_fit)
            .then(b.operation_fit.cmp(&a.operation_fit))
            .then(b.score.cmp(&a.score))
            .then(b.executor_fit.cmp(&a.executor_fit))
            .then(
                (b.runner_in_band as u8 + b.engine_in_band as u8)
                    .cmp(&(a.runner_in_band as u8 + a.engine_in_band as u8)),
            )
            .then(a.unmatched_failures.cmp(&b.unmatched_failures))
            .then(b.verbatim.cmp(&a.verbatim))
            .then(eb.seed.is_some().cmp(&ea.seed.is_some()))
            .then(ea.file.cmp(&eb.file))
    });
    let failure_lines = lines.iter().filter(|l| is_failure_line(&l.text)).cloned().collect();
    // A wrong answer is worse than none: when even the best contradicts the log, say so.
    let contradicting = if candidates.first().is_some_and(Candidate::contradicts) {
        std::mem::take(&mut candidates)
    } else {
        Vec::new()
    };
    Diagnosis {
        lines,
        shape,
        runner,
        engine,
        candidates,
        contradicting,
        failure_lines,
    }
}

/// Docker's first line of a push (distribution/push.go, every release the catalogue covers).
fn shows_push(line: &str) -> bool {
    line.contains("The push refers to repository") || line.contains("The push refers to a repository")
}

impl Candidate {
    /// Whether the scenario contradicts what the log says about the setup.
    pub fn contradicts(&self) -> bool {
        self.registry_fit == 0 || self.operation_fit == 0
    }

    /// Why it contradicts, in words.
    pub fn contradiction(&self) -> Vec<&'static str> {
        let mut why = Vec::new();
        if self.registry_fit == 0 {
            why.push("its images come from another kind of registry than the log's");
        }
        if self.operation_fit == 0 {
            why.push("it fails pulling, while the log is pushing");
        }
        why
    }
}

impl Diagnosis {
    /// The candidates the log cannot tell apart from the best (indices, the best included), or
    /// nothing when the best stands alone: equal on everything the ranking reads from the log
    /// (matched sentences, agreement with the versions, failure lines missing, lines word for
    /// word). What orders them then — a public post reproduces it, the file name — is no evidence.
    pub fn equally_likely(&self) -> Vec<usize> {
        let Some(best) = self.candidates.first() else {
            return Vec::new();
        };
        let key = |c: &Candidate| {
            (
                c.registry_fit,
                c.operation_fit,
                c.score,
                c.runner_in_band as u8 + c.engine_in_band as u8,
                c.unmatched_failures,
                c.verbatim,
            )
        };
        let tied: Vec<usize> = (0..self.candidates.len())
            .filter(|&i| key(&self.candidates[i]) == key(best))
            .collect();
        if tied.len() > 1 { tied } else { Vec::new() }
    }

    /// Causes of another kind that explain the log with the same failure sentences as the best
    /// (and fit its registry as well): the log alone cannot tell them apart. One candidate per
    /// kind, the best's kind first; empty when every such candidate shares the best's kind.
    pub fn ambiguous_causes(&self, k: &Knowledge) -> Vec<(regsim_model::scenario::cause::CauseKind, usize)> {
        let Some(best) = self.candidates.first() else {
            return Vec::new();
        };
        // The log's failure lines each explains, and whether whole or by an inner sentence.
        let sentences = |c: &Candidate| -> std::collections::BTreeSet<(String, bool)> {
            c.evidence
                .iter()
                .filter(|e| e.failure)
                .map(|e| (e.pattern.clone(), e.partial))
                .collect()
        };
        let theirs = sentences(best);
        let mut out: Vec<(regsim_model::scenario::cause::CauseKind, usize)> = Vec::new();
        for (i, c) in self.candidates.iter().enumerate() {
            if c.registry_fit != best.registry_fit || c.operation_fit != best.operation_fit || sentences(c) != theirs {
                continue;
            }
            let Some(kind) = k.entries[c.entry].fix.as_ref().and_then(|f| f.cause) else {
                continue;
            };
            if !out.iter().any(|(x, _)| *x == kind) {
                out.push((kind, i));
            }
        }
        if out.len() > 1 { out } else { Vec::new() }
    }

    /// The lines of the log the best candidate explains as failures, verbatim, in log order.
    pub fn matched_failure_lines(&self) -> Vec<String> {
        let Some(best) = self.candidates.first() else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        // An inner-sentence match is not a line the scenario prints as the log has it.
        for ev in best.evidence.iter().filter(|e| e.failure && !e.partial) {
            if !out.contains(&ev.text) {
                out.push(ev.text.clone());
            }
        }
        out
    }
}

pub(crate) fn show_path(p: &Path) -> String {
    // Print catalogue files as `scenarios/NAME.yaml` when they live in a `scenarios` directory.
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match p.parent().and_then(|d| d.file_name()) {
        Some(d) => format!("{}/{name}", d.to_string_lossy()),
        None => name,
    }
}

/// The text report.
pub fn render(k: &Knowledge, d: &Diagnosis, source: &str, max: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "regsim diagnose: {source} — {} non-empty lines; {}\n",
        d.lines.len(),
        d.shape.describe()
    ));
    s.push_str(&format!(
        "Catalogue: {} scenarios {} ({} failing ones are the known failure modes){}\n",
        k.entries.len(),
        if k.from_index {
            "(their simulated logs read from the index an earlier run wrote)"
        } else {
            "run"
        },
        k.entries.iter().filter(|e| e.outcome == Outcome::Fails).count(),
        if k.skipped.is_empty() {
            String::new()
        } else {
            format!("; {} could not be run", k.skipped.len())
        }
    ));
    for sk in &k.skipped {
        s.push_str(&format!("  skipped: {sk}\n"));
    }
    for p in &k.fix_problems {
        s.push_str(&format!("  fix link broken: {p}\n"));
    }

    s.push_str("\nRecognised\n");
    let all = bands::all_runner_releases();
    if let Some((v, rev)) = &d.runner.header {
        s.push_str(&format!("  runner header: gitlab-runner {v} ({rev})\n"));
    }
    if let Some(o) = &d.runner.older_than_modelled {
        s.push_str(&format!("  {o}\n"));
    }
    if d.runner.steps.is_empty() {
        s.push_str("  gitlab-runner release: nothing in the log narrows it (no header, no call site)\n");
    } else {
        let band = if d.runner.releases.is_empty() {
            "no modelled tag prints all of this".to_string()
        } else {
            bands::ranges(&all, &d.runner.releases)
        };
        s.push_str(&format!("  gitlab-runner release: {band}\n"));
        push_steps(&mut s, &d.runner.steps);
    }
    if d.engine.steps.is_empty() {
        s.push_str("  Docker Engine: nothing in the log narrows it (no request URL, no version-dependent wording)\n");
    } else {
        s.push_str(&format!(
            "  Docker Engine (engine-table rows): {}\n",
            d.engine.describe()
        ));
        push_steps(&mut s, &d.engine.steps);
    }

    if d.candidates.is_empty() {
        s.push_str(if d.contradicting.is_empty() {
            "\nNo known failure mode matches: no line of this log says what a failing catalogue scenario's log says.\n"
        } else {
            "\nNo known failure mode fits: the catalogue scenarios that say this log's failure sentences contradict its setup.\n"
        });
        if !d.contradicting.is_empty() {
            s.push_str(
                "Scenarios that say the same sentences, but contradict the log (no answer rather than a wrong one):\n",
            );
            for c in d.contradicting.iter().take(max) {
                s.push_str(&format!(
                    "  - {}: {}\n",
                    show_path(&k.entries[c.entry].file),
                    c.contradiction().join("; ")
                ));
            }
        }
        if d.failure_lines.is_empty() {
            s.push_str("No line looks like a failure (`ERROR:`, `WARNING: Failed to pull`, `[error]`).\n");
        } else {
            s.push_str("Failure lines seen, unmatched:\n");
            for l in d.failure_lines.iter().take(10) {
                s.push_str(&format!("  L{}: {}\n", l.number, l.text));
            }
        }
        return s;
    }

    let best = &d.candidates[0];
    let be = &k.entries[best.entry];
    s.push_str(&format!("\nFailure mode: {} ({})\n", be.name, show_path(&be.file)));
    s.push_str("Evidence (log lines with the same sentences as the scenario's simulated log):\n");
    for ev in &best.evidence {
        let n: Vec<String> = ev.lines.iter().map(|x| format!("L{x}")).collect();
        s.push_str(&format!(
            "  {}{}: {}\n",
            n.join("+"),
            match (ev.failure, ev.partial) {
                (true, true) => " [failure, inner sentence only]",
                (true, false) => " [failure]",
                _ => "",
            },
            ev.text
        ));
    }

    let explained: HashSet<usize> = best.evidence.iter().flat_map(|e| e.lines.iter().copied()).collect();
    let unexplained: Vec<&Line> = d
        .failure_lines
        .iter()
        .filter(|l| !explained.contains(&l.number))
        .collect();
    if !unexplained.is_empty() {
        s.push_str("Failure lines this scenario does not explain:\n");
        for l in unexplained.iter().take(10) {
            s.push_str(&format!("  L{}: {}\n", l.number, l.text));
        }
    }

    s.push_str("\nLikely root causes, best first (ranked by matched sentences, then agreement with the versions above, then causes seen in a public post):\n");
    // Group causes by the failure sentences they share; show up to `max`.
    let mut shown = 0;
    let mut same: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, c) in d.candidates.iter().enumerate() {
        let e = &k.entries[c.entry];
        if shown >= max {
            same.entry("more".into()).or_default().push(e.name.clone());
            continue;
        }
        shown += 1;
        let versions = format!(
            "runner {} {}, Docker {} {}",
            e.runner,
            if d.runner.steps.is_empty() {
                "(log gives no band)"
            } else if c.runner_in_band {
                "in the log's band"
            } else {
                "outside the log's band"
            },
            regsim_model::versions::docker::shown(&e.docker),
            if d.engine.steps.is_empty() {
                "(log gives no band)"
            } else if c.engine_in_band {
                "in the log's band"
            } else {
                "outside the log's band"
            },
        );
        let matched = c.evidence.len();
        s.push_str(&format!(
            "{}. {} — {matched} line(s) matched, score {}.{:03}; {versions}{}\n",
            i + 1,
            show_path(&e.file),
            c.score / 1000,
            c.score % 1000,
            e.seed
                .map(|s| format!("; reproduces seed {}", s.id))
                .unwrap_or_default()
        ));
        s.push_str(&format!("   Cause: {}\n", e.description));
        match &e.fix {
            Some(f) => {
                s.push_str(&format!("   Fix: {}\n", f.text.trim()));
                if let Some(fs) = &f.scenario {
                    s.push_str(&format!("   Fixed in: {}\n", show_path(&e.file.with_file_name(fs))));
                }
            }
            None => s.push_str("   Fix: (the scenario gives none)\n"),
        }
    }
    if let Some(more) = same.get("more") {
        s.push_str(&format!("   … and {} more: {}\n", more.len(), more.join(", ")));
    }
    let ambiguous = d.ambiguous_causes(k);
    if !ambiguous.is_empty() {
        s.push_str(&format!(
            "\nThe same failure sentences come from {} kinds of cause; the log alone does not tell them apart, so none is certain. What tells them apart:\n",
            ambiguous.len()
        ));
        for (kind, i) in &ambiguous {
            s.push_str(&format!(
                "  - {} (cause {}, {}): check {}\n",
                kind.as_str(),
                i + 1,
                k.entries[d.candidates[*i].entry].name,
                kind.how_to_tell()
            ));
        }
    }
    let tied = d.equally_likely();
    if !tied.is_empty() {
        let ranks: Vec<String> = tied.iter().map(|i| (i + 1).to_string()).collect();
        s.push_str(&format!(
            "The log does not tell causes {} apart: they match the same sentences and versions, and are ordered only by whether a public post reproduces them, then by file name.\n",
            ranks.join(", ")
        ));
    }
    s
}

/// One line per narrowing step: `L12: evidence → rule`.
fn push_steps(s: &mut String, steps: &[bands::Step]) {
    for st in steps {
        s.push_str(&format!(
            "    {}{} → {}\n",
            st.line.map(|l| format!("L{l}: ")).unwrap_or_default(),
            st.evidence,
            st.rule
        ));
    }
}
