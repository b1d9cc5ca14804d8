//! `regsim run`: a catalogue (or some of it) run, reported as logs, a summary, JSON or JUnit.

use super::{RunFormat, broken, runtime};
use crate::report::{self, Status};
use crate::run::{Batch, Overrides, collect, render_text_coloured, run_batch, summary_line};
use crate::term::{self, YELLOW, emit, emitln, paint, warn};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(super) struct RunArgs {
    pub paths: Vec<PathBuf>,
    pub overrides: Overrides,
    pub format: RunFormat,
    pub raw: bool,
    pub filter: Vec<String>,
    pub summary: bool,
    pub jobs: usize,
    pub colour: bool,
}

pub(super) fn run(a: RunArgs) -> ExitCode {
    if a.summary && a.format != RunFormat::Text {
        return broken("--summary is a text report; --format json and junit carry the totals already");
    }
    let files = match collect(&a.paths) {
        Ok(f) => f,
        Err(e) => return broken(e),
    };
    let given = || {
        a.paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if files.is_empty() {
        return broken(format!("no scenario files under {}", given()));
    }
    let files: Vec<PathBuf> = files.into_iter().filter(|f| selected(f, &a.filter)).collect();
    if files.is_empty() {
        return broken(format!(
            "no scenario under {} matches --filter {}",
            given(),
            a.filter.join(", --filter ")
        ));
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return broken(e),
    };
    let batch = Batch {
        jobs: a.jobs,
        progress: term::progress::bar(files.len(), "scenarios"),
    };
    let results = rt.block_on(run_batch(&files, &a.overrides, &batch));
    batch.progress.finish_and_clear();
    let entries: Vec<report::Entry> = files
        .into_iter()
        .zip(results)
        .map(|(file, result)| report::Entry { file, result })
        .collect();
    let count = |s: Status| entries.iter().filter(|e| e.status() == s).count();
    let (broken_files, unexpected) = (count(Status::Broken), count(Status::NotAsExpected));
    let total = entries.len();
    let totals = format!(
        "regsim: {total} scenarios, {} as expected, {unexpected} not as expected, {broken_files} broken",
        total - unexpected - broken_files
    );
    match a.format {
        RunFormat::Text if a.summary => {
            for e in &entries {
                match &e.result {
                    Ok(rep) => emitln(&summary_line(rep, a.colour)),
                    Err(err) => emitln(&format!(
                        "{} {}  ({})",
                        paint(a.colour, YELLOW, "broken         "),
                        e.file.display(),
                        first_line(&err.to_string())
                    )),
                }
            }
            emitln(&totals);
        }
        RunFormat::Text => {
            for e in &entries {
                match &e.result {
                    Ok(rep) => emitln(&render_text_coloured(rep, a.raw, a.colour)),
                    Err(err) => warn(&format!("regsim: {err}")),
                }
            }
            warn(&totals);
        }
        RunFormat::Json | RunFormat::Junit => {
            for e in &entries {
                if let Err(err) = &e.result {
                    warn(&format!("regsim: {err}"));
                }
            }
            if a.format == RunFormat::Json {
                emitln(&report::json::render(&entries));
            } else {
                emit(&report::junit::render(&entries));
            }
            warn(&totals);
        }
    }
    if broken_files > 0 {
        ExitCode::from(2)
    } else if unexpected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// Whether `--filter` keeps this file: no filter keeps all; a plain pattern is a substring of
/// the name (the file's stem); a pattern with `*`, `?` or `[` is a glob over the name or the
/// path as found.
pub(super) fn selected(file: &Path, filters: &[String]) -> bool {
    if filters.is_empty() {
        return true;
    }
    let name = file.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    let path = file.to_string_lossy();
    filters.iter().any(|f| {
        if f.contains(['*', '?', '[']) {
            glob(f, &name) || glob(f, &path)
        } else {
            name.contains(f.as_str())
        }
    })
}

/// Shell-style matching of the whole `text`: `*` any run of characters (`/` included), `?` one
/// character, `[abc]`, `[a-z]` and `[!a-z]` one character of (or not of) a set. An unclosed `[`
/// is a literal.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point for the last `*` (linear in practice, never
    // exponential).
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match class(&p[pi..], t[ti]) {
                Some((true, len)) => Some(len),
                Some((false, _)) => None,
                None if t[ti] == '[' => Some(1),
                None => None,
            },
            Some(c) if *c == t[ti] => Some(1),
            _ => None,
        };
        match step {
            Some(len) => {
                pi += len;
                ti += 1;
            }
            None => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A `[…]` class at the start of `p` tested against `c`: whether it matches and the class's
/// length in pattern characters; `None` when the `[` is not closed.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_a_shell_does() {
        assert!(glob("dependency-proxy-*", "dependency-proxy-13-5"));
        assert!(glob("*proxy*", "dependency-proxy-13-5"));
        assert!(!glob("proxy*", "dependency-proxy"));
        assert!(glob("seed-00?-*", "seed-001-allowlist"));
        assert!(glob("[ds]*", "seed-1") && glob("[ds]*", "dep") && !glob("[!ds]*", "dep"));
        assert!(glob("[a-c]x", "bx") && !glob("[a-c]x", "dx"));
        assert!(glob("a[b", "a[b"));
        assert!(glob("scenarios/*.yaml", "scenarios/x/y.yaml"));
        assert!(glob("*", "") && !glob("?", ""));
        assert!(glob("*a*a*a*a*a*b", &"a".repeat(40).replace("aa", "aab")));
        assert!(!glob("*a*a*a*a*a*a*a*a*c", &"a".repeat(5000)));
    }

    #[test]
    fn filters_take_names_or_globs() {
        let f = Path::new("scenarios/seed-001-allowlist.yaml");
        assert!(selected(f, &[]));
        assert!(selected(f, &["allowlist".into()]));
        assert!(!selected(f, &["yaml".into()]), "a plain pattern reads the name only");
        assert!(selected(f, &["scenarios/seed-*".into()]));
        assert!(selected(f, &["nothing".into(), "seed-00?-*".into()]));
    }
}
