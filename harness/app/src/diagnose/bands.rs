//! Version bands read off a log by inverting the version tables: which gitlab-runner tags print
//! what this log prints (versions/runner.rs), and which engine-table rows word errors the way it
//! does (versions/docker.rs). Each narrowing step is kept with the line that caused it.

use super::clean::Line;
use super::pattern::{Value, pattern};
use regex::Regex;
use regsim_model::versions::docker::{self, EngineProfile, ManifestProbe, PullDeniedWording};
use regsim_model::versions::runner::{self, AuthLine, RunnerRelease};
use regsim_model::versions::{Era, lookup, parse_version};
use semver::Version;
use std::sync::OnceLock;

/// One narrowing step: what was seen, where, and which table said what.
#[derive(Debug, Clone)]
pub struct Step {
    pub line: Option<usize>,
    pub evidence: String,
    pub rule: String,
}

#[derive(Debug, Clone)]
pub struct RunnerBand {
    /// Tags of data/runner_revisions.tsv (modelled releases) still possible, oldest first.
    pub releases: Vec<Version>,
    pub steps: Vec<Step>,
    /// The release named by the `Running with` header, if any (even when not a known tag).
    pub header: Option<(String, String)>,
    /// Something said the log is older than anything modelled (e.g. `API error (NNN)`).
    pub older_than_modelled: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EngineBand {
    /// Engine-table rows still possible, oldest first: (first version of the row, the row).
    pub rows: Vec<(Version, EngineProfile)>,
    pub steps: Vec<Step>,
}

/// Consecutive runs of `all` that are in `some`, as `A – B` ranges.
pub fn ranges(all: &[Version], some: &[Version]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Option<(Version, Version)> = None;
    for v in all {
        if some.contains(v) {
            run = Some(match run {
                Some((a, _)) => (a, v.clone()),
                None => (v.clone(), v.clone()),
            });
        } else if let Some((a, b)) = run.take() {
            out.push(if a == b { a.to_string() } else { format!("{a} – {b}") });
        }
    }
    if let Some((a, b)) = run {
        out.push(if a == b { a.to_string() } else { format!("{a} – {b}") });
    }
    out.join(", ")
}

fn modelled_releases() -> Vec<(Version, RunnerRelease)> {
    runner::known_releases()
        .into_iter()
        .filter_map(|v| runner::release(&v).ok().map(|r| (v, r)))
        .collect()
}

struct Res {
    on_line: Regex,
    service: Regex,
    api_error: Regex,
    old_final: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| Res {
        on_line: Regex::new(r"^\s*on \S+ \S+?(, system ID: \S+)?$").unwrap(),
        service: Regex::new(r"^Starting service \S+?( ?)\.\.\.$").unwrap(),
        api_error: Regex::new(r"API error \((\d{3})\)").unwrap(),
        old_final: Regex::new(
            r"^ERROR: (?:Job failed|Preparation failed)(?: \(system failure\))?: Error response from daemon: ",
        )
        .unwrap(),
    })
}

pub fn runner_band(lines: &[Line]) -> RunnerBand {
    let all = modelled_releases();
    let mut keep: Vec<bool> = vec![true; all.len()];
    let mut steps = Vec::new();
    let mut header = None;
    let mut older = None;
    let mut narrow = |keep: &mut Vec<bool>,
                      line: Option<usize>,
                      evidence: String,
                      rule: String,
                      f: &dyn Fn(&Version, &RunnerRelease) -> bool| {
        for (k, (v, r)) in keep.iter_mut().zip(&all) {
            *k = *k && f(v, r);
        }
        steps.push(Step { line, evidence, rule });
    };
    let r = res();
    let mut seen_site = std::collections::HashSet::new();
    for l in lines {
        let t = l.text.trim();
        let p = pattern(t);
        for v in &p.values {
            match v {
                Value::RunnerVersion { version, revision } => {
                    header = Some((version.clone(), revision.clone()));
                    match parse_version(version) {
                        Ok(ver) => {
                            let base = Version::new(ver.major, ver.minor, ver.patch);
                            let tag = runner::revision(&base);
                            let note = match &tag {
                                Some(rev) if rev == revision => format!("tag {base} is {rev}: matches"),
                                Some(rev) => {
                                    format!("tag {base} is {rev}, the log says {revision}: a build that is not the tag")
                                }
                                None => format!("{base} is not a tag in data/runner_revisions.tsv"),
                            };
                            if base < runner::OLDEST_MODELLED {
                                older = Some(format!(
                                    "gitlab-runner {base} is older than {} (the first with a call-site suffix)",
                                    runner::OLDEST_MODELLED
                                ));
                            }
                            narrow(
                                &mut keep,
                                Some(l.number),
                                t.to_string(),
                                format!("the header names the release; {note}"),
                                &|v, _| *v == base,
                            );
                        }
                        Err(e) => narrow(&mut keep, Some(l.number), t.to_string(), e.to_string(), &|_, _| true),
                    }
                }
                Value::Site { file, line, .. } if seen_site.insert((file.clone(), *line)) => {
                    let (f, n) = (file.clone(), *line);
                    let never = t.contains("with policy \"never\"");
                    let table = if never {
                        "inspect_call_site (pull policy never)"
                    } else {
                        "pull_call_site"
                    };
                    narrow(
                        &mut keep,
                        Some(l.number),
                        format!("({f}:{n}:…)"),
                        format!("tags whose {table} is {f}:{n} (versions/runner.rs, gitlab-runner.md §1.2–1.3)"),
                        &|_, rel| {
                            let site = if never {
                                rel.inspect_call_site
                            } else {
                                Some(rel.pull_call_site)
                            };
                            site == Some((f.as_str(), n)) || (!never && rel.inspect_call_site == Some((f.as_str(), n)))
                        },
                    );
                }
                _ => {}
            }
        }
        if let Some(c) = r
            .on_line
            .captures(&l.text)
            .filter(|_| l.text.starts_with("  on ") || l.text.starts_with("on "))
        {
            let sid = c.get(1).is_some();
            narrow(
                &mut keep,
                Some(l.number),
                t.to_string(),
                format!(
                    "system_id {}: `, system ID:` on the `on` line (v15.8.0 →)",
                    if sid { "printed" } else { "not printed" }
                ),
                &|_, rel| rel.system_id == sid,
            );
        }
        if t.starts_with("Using effective pull policy of ") {
            narrow(
                &mut keep,
                Some(l.number),
                t.to_string(),
                "effective_pull_policy_line (v18.0.0 →)".into(),
                &|_, rel| rel.effective_pull_policy_line,
            );
        }
        if t.starts_with("Preparing the \"") && t.ends_with(" executor") {
            narrow(
                &mut keep,
                Some(l.number),
                t.to_string(),
                "sections: the prepare_executor header (v12.9.0 →)".into(),
                &|_, rel| rel.sections,
            );
        }
        if t.starts_with("Authenticating with credentials from ") {
            narrow(
                &mut keep,
                Some(l.number),
                t.to_string(),
                "auth_line: printed from v12.1.0".into(),
                &|_, rel| rel.auth_line != AuthLine::Never,
            );
        }
        if t.contains("Failed to pull image with policy") || t.contains("with specified policies [") {
            narrow(
                &mut keep,
                Some(l.number),
                short(t),
                "pull_policy_loop: the pull-policy wrapper (v13.8.0 →)".into(),
                &|_, rel| rel.pull_policy_loop,
            );
        } else if r.old_final.is_match(t) && t.contains("(executor_docker.go:") | t.contains("(docker.go:") {
            narrow(
                &mut keep,
                Some(l.number),
                short(t),
                "no pull-policy wrapper around the daemon's error (before v13.8.0)".into(),
                &|_, rel| !rel.pull_policy_loop,
            );
        }
        if let Some(c) = r.service.captures(t) {
            let spaced = !c[1].is_empty();
            narrow(
                &mut keep,
                Some(l.number),
                t.to_string(),
                format!(
                    "service_line_spaced: `VERSION{}...` ({})",
                    if spaced { " " } else { "" },
                    if spaced { "≤ v17.0" } else { "v17.1.0 →" }
                ),
                &|_, rel| rel.service_line_spaced == spaced,
            );
        }
        if let Some(c) = r.api_error.captures(t) {
            older = Some(format!(
                "`API error ({})` is fsouza/go-dockerclient's wording: gitlab-runner before {} (versions/runner.rs FIRST_OFFICIAL_DOCKER_CLIENT), older than anything modelled",
                &c[1],
                runner::FIRST_OFFICIAL_DOCKER_CLIENT
            ));
        }
    }
    let releases = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((v, _), _)| v.clone())
        .collect();
    RunnerBand {
        releases,
        steps,
        header,
        older_than_modelled: older,
    }
}

fn short(t: &str) -> String {
    if t.chars().count() > 100 {
        format!("{}…", t.chars().take(100).collect::<String>())
    } else {
        t.to_string()
    }
}

pub fn all_runner_releases() -> Vec<Version> {
    modelled_releases().into_iter().map(|(v, _)| v).collect()
}

pub fn engine_band(lines: &[Line]) -> EngineBand {
    let table: Vec<Era<EngineProfile>> = docker::engine_table();
    let mut keep = vec![true; table.len()];
    let mut steps = Vec::new();
    let streams = docker::stream_table();
    let mut narrow = |keep: &mut Vec<bool>,
                      line: usize,
                      evidence: String,
                      rule: String,
                      f: &dyn Fn(&Version, &EngineProfile) -> bool| {
        for (k, e) in keep.iter_mut().zip(&table) {
            *k = *k && f(&e.since, &e.value);
        }
        steps.push(Step {
            line: Some(line),
            evidence,
            rule,
        });
    };
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for l in lines {
        let t = l.text.trim();
        let p = pattern(t);
        for v in &p.values {
            if let Value::Request { method, quoted, url } = v {
                if seen.insert(format!("quoted {quoted}")) {
                    let q = *quoted;
                    narrow(
                        &mut keep,
                        l.number,
                        format!("{method} {}", if q { format!("\"{url}\"") } else { url.clone() }),
                        format!("quoted_urls {q}: Go ≥ 1.14 quotes URLs in errors (docker-errors.md §2)"),
                        &|_, e| e.quoted_urls == q,
                    );
                }
                let by_tag = url.contains("/manifests/") && !url.contains("/manifests/sha256:");
                if method == "Head" && seen.insert("head".to_string()) {
                    narrow(
                        &mut keep,
                        l.number,
                        "Head …/manifests/…".to_string(),
                        "manifest_probe HeadThenGet (20.10 →, docker-errors.md §5.1, §4 (d))".into(),
                        &|_, e| e.manifest_probe == ManifestProbe::HeadThenGet,
                    );
                } else if method == "Get" && by_tag && seen.insert("get".to_string()) {
                    narrow(
                        &mut keep,
                        l.number,
                        "Get …/manifests/TAG".to_string(),
                        "manifest_probe Get: a GET of the manifest by tag in the error (≤ 19.03, docker-errors.md §5.1, §4 (d))"
                            .into(),
                        &|_, e| e.manifest_probe == ManifestProbe::Get,
                    );
                }
            }
        }
        let wording = if t.contains(" not found: does not exist or no pull access") {
            Some(PullDeniedWording::NotFoundOrNoPullAccess)
        } else if let Some(i) = t.find(", repository does not exist or may require 'docker login'") {
            let rest = &t[i + ", repository does not exist or may require 'docker login'".len()..];
            Some(if rest.starts_with(": ") {
                PullDeniedWording::WithCause
            } else {
                PullDeniedWording::WithoutCause
            })
        } else {
            None
        };
        if let Some(w) = wording
            && seen.insert(format!("{w:?}"))
        {
            narrow(
                &mut keep,
                l.number,
                short(t),
                format!("pull_denied {w:?} (docker-errors.md §1.3)"),
                &|_, e| e.pull_denied == w,
            );
        }
        for sentence in ["The push refers to repository", "The push refers to a repository"] {
            if t.contains(&format!("{sentence} [")) && seen.insert(format!("push {sentence}")) {
                // Rows whose span overlaps a stream-table era with this sentence.
                let eras: Vec<(Version, Option<Version>)> = streams
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.value.push_refers_to == sentence)
                    .map(|(i, e)| (e.since.clone(), streams.get(i + 1).map(|n| n.since.clone())))
                    .collect();
                let row_end: Vec<(Version, Option<Version>)> = table
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.since.clone(), table.get(i + 1).map(|n| n.since.clone())))
                    .collect();
                narrow(
                    &mut keep,
                    l.number,
                    short(t),
                    format!("`{sentence} [` (versions/docker.rs stream_table)"),
                    &|since, _| {
                        let end = row_end.iter().find(|(s, _)| s == since).and_then(|(_, e)| e.clone());
                        eras.iter().any(|(a, b)| {
                            b.as_ref().is_none_or(|b| since < b) && end.as_ref().is_none_or(|end| a < end)
                        })
                    },
                );
            }
        }
    }
    let rows = table
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(e, _)| (e.since, e.value))
        .collect();
    EngineBand { rows, steps }
}

impl EngineBand {
    pub fn describe(&self) -> String {
        if self.rows.is_empty() {
            return "no row of the engine table prints all of this (versions/docker.rs)".into();
        }
        let labels: Vec<&str> = self.rows.iter().map(|(_, p)| p.line).collect();
        labels.join(" · ")
    }
    pub fn contains(&self, version: &Version) -> bool {
        let table = docker::engine_table();
        match lookup(&table, version) {
            Some(e) => self.rows.iter().any(|(s, _)| *s == e.since),
            None => false,
        }
    }
}
