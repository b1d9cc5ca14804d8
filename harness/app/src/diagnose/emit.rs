//! `--emit-scenario`: the best-matching catalogue scenario, adapted to the pasted log — its
//! hosts, image paths, tags, runner name and versions replaced by the log's where the matched
//! lines pair them one to one — with `expect.lines` set to the log's failure lines. The result is
//! run at once; lines it does not reproduce are moved to `not_reproduced` with the reason, so
//! `regsim run` on the file passes and says what it could not reproduce.

use super::pattern::{Value, pattern};
use super::{Diagnosis, Knowledge, bands};
use crate::run::{Overrides, load, run_world};
use regsim_model::versions::{docker, runner};
use regsim_wire::reference::Written;
use semver::Version;
use serde_yaml_ng::{Mapping, Value as Y};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct Emitted {
    pub path: PathBuf,
    pub base: PathBuf,
    /// What was replaced, as `old → new` lines.
    pub substitutions: Vec<String>,
    /// The log's failure lines the emitted scenario's log contains.
    pub reproduced: Vec<String>,
    pub not_reproduced: Vec<String>,
    /// The log's failure lines matched by an inner sentence only (another wrapper): not
    /// reproduced, for that reason.
    pub partial: Vec<String>,
    pub notes: Vec<String>,
}

impl Emitted {
    /// Whether the emitted scenario reproduces any of the log's failure lines word for word:
    /// when it does not, it is a starting point, not a reproduction (diagnose exits 1).
    pub fn reproduces_any(&self) -> bool {
        !self.reproduced.is_empty()
    }
}

/// A reference as a log wrote it, split Docker's way (`Written`: no validation, since pasted
/// names may be redacted), with its path in components.
#[derive(Debug, Clone, PartialEq)]
struct Ref {
    host: Option<String>,
    path: Vec<String>,
    tag: Option<String>,
}

fn split_ref(s: &str) -> Ref {
    let w = Written::split(s);
    Ref {
        host: w.domain.map(str::to_string),
        path: w.path.split('/').map(str::to_string).collect(),
        tag: w.tag.map(str::to_string),
    }
}

/// `https://HOST/v2/REPO/manifests/REF` → (host, repo, ref).
fn split_url(u: &str) -> Option<(String, String, String)> {
    let rest = u.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    let path = path.strip_prefix("v2/")?;
    let (repo, r) = path.rsplit_once("/manifests/")?;
    Some((host.to_string(), repo.to_string(), r.to_string()))
}

#[derive(Debug, Default)]
struct Mapping_ {
    hosts: BTreeMap<String, Option<String>>,
    components: BTreeMap<String, Option<String>>,
    /// (old last component, old tag) → new tag.
    tags: BTreeMap<(String, String), Option<String>>,
    runner_name: Option<String>,
    runner_token_shown: Option<String>,
    runner_version: Option<String>,
}

/// Records old → new; a second, different `new` for the same `old` makes it unclean (None).
fn put<K: Ord>(m: &mut BTreeMap<K, Option<String>>, old: K, new: &str) {
    match m.get(&old) {
        Some(Some(n)) if n != new => {
            m.insert(old, None);
        }
        Some(_) => {}
        None => {
            m.insert(old, Some(new.to_string()));
        }
    }
}

impl Mapping_ {
    fn pair_refs(&mut self, old: &Ref, new: &Ref) {
        if let (Some(o), Some(n)) = (&old.host, &new.host) {
            put(&mut self.hosts, o.clone(), n);
        }
        if old.path.len() == new.path.len() {
            for (o, n) in old.path.iter().zip(&new.path) {
                put(&mut self.components, o.clone(), n);
            }
            if let (Some(ot), Some(nt), Some(last)) = (&old.tag, &new.tag, old.path.last()) {
                put(&mut self.tags, (last.clone(), ot.clone()), nt);
            }
        }
    }

    fn learn(&mut self, old: &Value, new: &Value) {
        match (old, new) {
            (Value::Ref(o), Value::Ref(n)) => self.pair_refs(&split_ref(o), &split_ref(n)),
            (Value::Request { url: o, .. }, Value::Request { url: n, .. }) => {
                if let (Some((oh, orepo, oref)), Some((nh, nrepo, nref))) = (split_url(o), split_url(n)) {
                    let old = Ref {
                        host: Some(oh),
                        path: orepo.split('/').map(str::to_string).collect(),
                        tag: Some(oref),
                    };
                    let new = Ref {
                        host: Some(nh),
                        path: nrepo.split('/').map(str::to_string).collect(),
                        tag: Some(nref),
                    };
                    self.pair_refs(&old, &new);
                }
            }
            (Value::RunnerName(o), Value::RunnerName(n)) if o != n => self.runner_name = Some(n.clone()),
            (Value::RunnerToken(o), Value::RunnerToken(n)) if o != n => self.runner_token_shown = Some(n.clone()),
            (Value::RunnerVersion { .. }, Value::RunnerVersion { version, .. }) => {
                self.runner_version = Some(version.clone())
            }
            _ => {}
        }
    }

    fn changes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (o, n) in &self.hosts {
            match n {
                Some(n) if n != o => out.push(format!("host {o} → {n}")),
                None => out.push(format!("host {o} kept: the log pairs it with more than one host")),
                _ => {}
            }
        }
        for (o, n) in &self.components {
            match n {
                Some(n) if n != o => out.push(format!("path component {o} → {n}")),
                None => out.push(format!("path component {o} kept: the log pairs it with more than one")),
                _ => {}
            }
        }
        for ((l, o), n) in &self.tags {
            if let Some(n) = n.as_ref().filter(|n| *n != o) {
                out.push(format!("tag {l}:{o} → {l}:{n}"));
            }
        }
        out
    }

    /// Rewrites one string value of the scenario.
    fn rewrite(&self, s: &str) -> String {
        // Hosts anywhere (image names, DOCKER_AUTH_CONFIG keys, URLs), longest first so
        // `host:port` goes before `host`.
        let mut out = s.to_string();
        let mut hosts: Vec<(&String, &String)> = self
            .hosts
            .iter()
            .filter_map(|(o, n)| n.as_ref().map(|n| (o, n)))
            .filter(|(o, n)| o != n)
            .collect();
        hosts.sort_by_key(|(o, _)| std::cmp::Reverse(o.len()));
        for (o, n) in &hosts {
            out = replace_host(&out, o, n);
        }
        // Whole values shaped like a path or reference: component by component.
        if out.is_empty() || out.chars().any(|c| c.is_whitespace() || "{}\"'<>".contains(c)) {
            return out;
        }
        let r = split_ref(&out);
        let last_old = r.path.last().cloned().unwrap_or_default();
        let path: Vec<String> = r
            .path
            .iter()
            .map(|c| match self.components.get(c) {
                Some(Some(n)) => n.clone(),
                _ => c.clone(),
            })
            .collect();
        let tag = r
            .tag
            .as_ref()
            .map(|t| match self.tags.get(&(last_old.clone(), t.clone())) {
                Some(Some(n)) => n.clone(),
                _ => t.clone(),
            });
        let mut rebuilt = String::new();
        if let Some(h) = &r.host {
            rebuilt.push_str(h);
            rebuilt.push('/');
        }
        rebuilt.push_str(&path.join("/"));
        if let Some(t) = tag {
            rebuilt.push(':');
            rebuilt.push_str(&t);
        }
        rebuilt
    }
}

/// Replaces `old` where it stands as a whole host (not inside a longer name).
fn replace_host(s: &str, old: &str, new: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(old) {
        let before = rest[..i].chars().last();
        let after = rest[i + old.len()..].chars().next();
        let edge_before = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        let edge_after = after.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            && !(after == Some(':')
                && !old.contains(':')
                && rest[i + old.len() + 1..].starts_with(|c: char| c.is_ascii_digit()));
        out.push_str(&rest[..i]);
        out.push_str(if edge_before && edge_after { new } else { old });
        rest = &rest[i + old.len()..];
    }
    out.push_str(rest);
    out
}

fn walk(v: &mut Y, f: &dyn Fn(&str) -> String) {
    match v {
        Y::String(s) => *s = f(s),
        Y::Sequence(seq) => seq.iter_mut().for_each(|x| walk(x, f)),
        Y::Mapping(m) => m.iter_mut().for_each(|(_, x)| walk(x, f)),
        Y::Tagged(t) => walk(&mut t.value, f),
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Y, path: &[&str]) -> Option<&'a mut Y> {
    let mut cur = v;
    for k in path {
        cur = cur.as_mapping_mut()?.get_mut(Y::String(k.to_string()))?;
    }
    Some(cur)
}

fn set(v: &mut Y, path: &[&str], value: Y) {
    let (last, parent) = path.split_last().expect("non-empty path");
    if let Some(Y::Mapping(m)) = get_mut(v, parent) {
        m.insert(Y::String(last.to_string()), value);
    }
}

fn remove(v: &mut Y, path: &[&str]) {
    let (last, parent) = path.split_last().expect("non-empty path");
    if let Some(Y::Mapping(m)) = get_mut(v, parent) {
        m.shift_remove(Y::String(last.to_string()));
    }
}

fn version_str(v: &Y, path: &[&str]) -> Option<Version> {
    let mut v = v.clone();
    let s = get_mut(&mut v, path)?.as_str()?.to_string();
    regsim_model::versions::parse_version(&s).ok()
}

/// Lines of a run's log (job log then script), verbatim.
fn log_lines(rep: &crate::run::Report) -> Vec<String> {
    let mut lines: Vec<String> = rep.job_log.plain.lines().map(str::to_string).collect();
    if let Some(s) = &rep.job_log.script {
        lines.extend(s.text.lines().map(str::to_string));
    }
    lines
}

async fn try_run(path: &Path) -> Result<crate::run::Report, String> {
    let world = load(path, &Overrides::default()).map_err(|e| e.to_string())?;
    run_world(&world, path).await.map_err(|e| e.to_string())
}

/// Writes the scenario and runs it; see the module comment.
pub async fn emit(k: &Knowledge, d: &Diagnosis, source: &str, out: &Path) -> Result<Emitted, String> {
    let best = d
        .candidates
        .first()
        .ok_or("no known failure mode matches this log; nothing to emit")?;
    let e = &k.entries[best.entry];
    let text = std::fs::read_to_string(&e.file).map_err(|x| format!("{}: {x}", e.file.display()))?;
    let base: Y = serde_yaml_ng::from_str(&text).map_err(|x| format!("{}: {x}", e.file.display()))?;

    // Pair the scenario's values with the log's, line by line.
    let mut map = Mapping_::default();
    for ev in &best.evidence {
        if let Some(sl) = e.lines.iter().find(|l| l.pattern.text == ev.pattern) {
            let new = pattern(&ev.text);
            if new.values.len() == sl.pattern.values.len() {
                for (o, n) in sl.pattern.values.iter().zip(&new.values) {
                    if o.kind() == n.kind() {
                        map.learn(o, n);
                    }
                }
            }
        }
    }
    let wanted = d.matched_failure_lines();
    let mut result = Emitted {
        path: out.to_path_buf(),
        base: e.file.clone(),
        ..Default::default()
    };

    // Versions the log asks for.
    let mut version_changes: Vec<(Vec<&str>, String, String)> = Vec::new();
    let all = bands::all_runner_releases();
    let base_runner = version_str(&base, &["runner", "version"]);
    let header_release = map
        .runner_version
        .as_deref()
        .and_then(|v| regsim_model::versions::parse_version(v).ok())
        .filter(|v| runner::release(v).is_ok() && runner::revision(v).is_some());
    let want_runner = match (&header_release, &base_runner) {
        (Some(h), _) => Some(h.clone()),
        (None, Some(b)) if !d.runner.releases.is_empty() && !d.runner.releases.contains(b) => {
            let bi = all.iter().position(|v| v == b).unwrap_or(0) as i64;
            d.runner
                .releases
                .iter()
                .min_by_key(|v| (all.iter().position(|x| x == *v).unwrap_or(0) as i64 - bi).abs())
                .cloned()
        }
        _ => None,
    };
    if let (Some(w), Some(b)) = (&want_runner, &base_runner)
        && w != b
    {
        version_changes.push((vec!["runner", "version"], b.to_string(), w.to_string()));
    }
    if let Some(b) = version_str(&base, &["docker", "version"])
        && !d.engine.steps.is_empty()
        && !d.engine.rows.is_empty()
        && !d.engine.contains(&b)
        && let Some(w) = crate::matrix::docker_representatives()
            .into_iter()
            .filter(|v| d.engine.contains(v))
            .min_by_key(|v| {
                let key = |x: &Version| x.major as i64 * 10000 + x.minor as i64 * 100 + x.patch as i64;
                (key(v) - key(&b)).abs()
            })
    {
        version_changes.push((vec!["docker", "version"], docker::shown(&b), docker::shown(&w)));
    }

    // Attempts, most adapted first.
    let attempts: [(bool, bool); 3] = [(true, true), (true, false), (false, false)];
    let mut last_err = String::new();
    for (subst, versions) in attempts {
        let mut y = base.clone();
        let mut subs = Vec::new();
        if subst {
            walk(&mut y, &|s| map.rewrite(s));
            subs.extend(map.changes());
            if let Some(n) = &map.runner_name {
                set(&mut y, &["runner", "name"], Y::String(n.clone()));
            }
        }
        if versions {
            for (p, from, to) in &version_changes {
                set(&mut y, p, Y::String(to.clone()));
                subs.push(format!("{} {from} → {to} (the log's band)", p.join(".")));
            }
            // The runner token, when the shown part alone prints the same under this release.
            // (as is, or behind the `glrt-` prefix that 15.9+ strips).
            if let (Some(shown), Some(rv)) = (
                &map.runner_token_shown,
                version_str(&y, &["runner", "version"]).and_then(|v| runner::release(&v).ok()),
            ) && let Some(token) = [shown.clone(), format!("glrt-{shown}")]
                .into_iter()
                .find(|t| runner::shorten_token(rv.short_token, t) == *shown)
            {
                set(&mut y, &["runner", "token"], Y::String(token.clone()));
                subs.push(format!("runner.token → {token} (prints the part the log shows)"));
            }
        }
        remove(&mut y, &["seed"]);
        remove(&mut y, &["expect", "not_reproduced"]);
        remove(&mut y, &["fix", "scenario"]);
        set(
            &mut y,
            &["description"],
            Y::String(format!(
                "Emitted by `regsim diagnose` from {source}, adapted from {}: {}",
                super::show_path(&e.file),
                e.description
            )),
        );
        set(
            &mut y,
            &["expect", "lines"],
            Y::Sequence(wanted.iter().map(|l| Y::String(l.clone())).collect()),
        );
        write(out, &y)?;
        let rep = match try_run(out).await {
            Ok(r) => r,
            Err(x) => {
                last_err = x;
                continue;
            }
        };
        // Which of the wanted lines appear, verbatim and after the scenario's post edits.
        let verbatim: Vec<String> = log_lines(&rep);
        let world = load(out, &Overrides::default()).map_err(|x| x.to_string())?;
        let edited: Vec<String> = verbatim.iter().map(|l| world.expect.as_in_post(l)).collect();
        let hit_v: Vec<&String> = wanted.iter().filter(|w| verbatim.contains(w)).collect();
        let hit_e: Vec<&String> = wanted.iter().filter(|w| edited.contains(w)).collect();
        if hit_e.len() <= hit_v.len() {
            remove(&mut y, &["expect", "post_redactions"]);
        }
        let hits: Vec<String> = if hit_e.len() > hit_v.len() { hit_e } else { hit_v }
            .into_iter()
            .cloned()
            .collect();
        let misses: Vec<String> = wanted.iter().filter(|w| !hits.contains(w)).cloned().collect();
        set(
            &mut y,
            &["expect", "lines"],
            Y::Sequence(hits.iter().map(|l| Y::String(l.clone())).collect()),
        );
        if !misses.is_empty() {
            let why = "the emitted scenario's log words this line differently: diagnose could not map every \
                       value of the pasted log onto the scenario";
            set(
                &mut y,
                &["expect", "not_reproduced"],
                Y::Sequence(
                    misses
                        .iter()
                        .map(|l| {
                            let mut m = Mapping::new();
                            m.insert(Y::String("line".into()), Y::String(l.clone()));
                            m.insert(Y::String("why".into()), Y::String(why.into()));
                            Y::Mapping(m)
                        })
                        .collect(),
                ),
            );
        }
        write(out, &y)?;
        let check = try_run(out).await?;
        if !check.ok() {
            result.notes.push(format!(
                "`regsim run {}` does not pass: {}",
                out.display(),
                check.missing_lines.join(" | ")
            ));
        }
        if !(subst && versions) {
            result.notes.push(format!(
                "the fully adapted scenario did not run ({last_err}); this one keeps more of the original"
            ));
        }
        result.substitutions = subs;
        result.reproduced = hits;
        result.not_reproduced = misses;
        // The log's failure lines the failure mode matched only by an inner sentence: the
        // scenario says them under its own release's or client's wrapper, so not as the log does.
        for ev in d.candidates.first().map(|c| c.evidence.as_slice()).unwrap_or_default() {
            if ev.failure && ev.partial {
                result.partial.push(ev.text.clone());
            }
        }
        return Ok(result);
    }
    Err(format!("the emitted scenario does not run: {last_err}"))
}

fn write(out: &Path, y: &Y) -> Result<(), String> {
    let text = serde_yaml_ng::to_string(y).map_err(|e| e.to_string())?;
    std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))
}

impl Emitted {
    pub fn render(&self) -> String {
        let mut s = format!(
            "\nWrote {} (adapted from {})\n",
            self.path.display(),
            super::show_path(&self.base)
        );
        if self.substitutions.is_empty() {
            s.push_str("  substitutions: none (the log's values are the scenario's, or do not map one to one)\n");
        }
        for x in &self.substitutions {
            s.push_str(&format!("  substituted: {x}\n"));
        }
        s.push_str(&format!(
            "  run it: reproduces {} of {} failure line(s) of the log verbatim\n",
            self.reproduced.len(),
            self.reproduced.len() + self.not_reproduced.len()
        ));
        for l in &self.not_reproduced {
            s.push_str(&format!("  not reproduced: {l}\n"));
        }
        for l in &self.partial {
            s.push_str(&format!(
                "  not reproduced (only its inner sentence is the scenario's; the log's wrapper is another release's or client's): {l}\n"
            ));
        }
        if !self.reproduces_any() {
            s.push_str(
                "  it reproduces none of the log's failure lines word for word: a starting point, not a reproduction\n",
            );
        }
        for n in &self.notes {
            s.push_str(&format!("  note: {n}\n"));
        }
        s
    }
}
