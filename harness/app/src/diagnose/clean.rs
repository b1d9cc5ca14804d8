//! A job log as people paste it, turned into the lines the job page shows.
//!
//! Accepted shapes:
//! - the raw trace (`--raw`, or GitLab's "raw" view): ANSI colour codes and
//!   `section_start:TS:NAME\r\e[0K` / `section_end:…` markers (gitlab-runner.md §2.1, §2.3);
//! - text copied from the job page, where a section header may end in its duration
//!   (`Preparing the "docker+machine" executor 00:05`, gitlab-runner.md §2.3);
//! - either of them with per-line timestamps. The runner's FF_TIMESTAMPS prefix is
//!   `<RFC 3339 UTC, 6 fractional digits>Z <2 hex stream id><O|E><' '|'+'>`, e.g.
//!   `2025-01-01T00:00:00.123456Z 00O ` (gitlab-runner.md §2.1, timestamper.go at v17.0.0 and
//!   v18.7.0). Its interplay with section markers is UNCONFIRMED there, so markers and colours
//!   are removed wherever they are, and the prefix is then taken off the start of the line.
//!   Any other ISO-8601 date-time at the start of a line (optionally in brackets) is also taken
//!   off: that shape is generic, not one the research has seen in a GitLab log.
//! - partial logs, Windows line ends, and bytes that are not UTF-8 (replaced, never a panic).

use regex::Regex;
use std::sync::OnceLock;

/// One line of the pasted log after cleaning, with its 1-based line number in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub text: String,
}

/// What the cleaning found, for the report (and, as it is, for `--format json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Shape {
    pub ansi: bool,
    pub section_markers: bool,
    pub runner_timestamps: bool,
    pub other_timestamps: bool,
    pub section_durations: bool,
    /// Links to the job page's lines (`23[7](https://…/-/jobs/N#L7)`): a copy of the page into
    /// Markdown turns the line numbers it picked up into links, in the middle of the text.
    pub line_links: bool,
    pub invalid_utf8: bool,
}

impl Shape {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.ansi || self.section_markers {
            parts.push(match (self.ansi, self.section_markers) {
                (true, true) => "raw trace (ANSI colours and section markers)",
                (true, false) => "ANSI colours",
                _ => "section markers",
            });
        } else {
            parts.push("text as the job page shows it");
        }
        if self.runner_timestamps {
            parts.push("runner timestamps (FF_TIMESTAMPS) removed");
        }
        if self.other_timestamps {
            parts.push("leading ISO-8601 timestamps removed");
        }
        if self.section_durations {
            parts.push("section durations removed");
        }
        if self.line_links {
            parts.push("links to job-page lines unwrapped");
        }
        if self.invalid_utf8 {
            parts.push("bytes that are not UTF-8 replaced");
        }
        parts.join("; ")
    }
}

struct Res {
    marker: Regex,
    ansi: Regex,
    bare_ansi: Regex,
    runner_ts: Regex,
    iso_ts: Regex,
    duration: Regex,
    line_link: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| Res {
        // `section_start:1700000000:prepare_executor[collapsed=true]\r` (options as GitLab's
        // custom sections allow them).
        marker: Regex::new(r"section_(?:start|end):\d+:[^\s\r\x1b]*\r?").unwrap(),
        ansi: Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b").unwrap(),
        // The same codes after something dropped the ESC byte (`[0K`, `[32;1m`, `[0;m`): a
        // robustness rule for pasted text, not a shape the research has seen.
        bare_ansi: Regex::new(r"\[0K|\[[0-9]{1,2}(?:;[0-9]{1,2})*m|\[0;m").unwrap(),
        runner_ts: Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z [0-9a-f]{2}[OE][ +]").unwrap(),
        iso_ts: Regex::new(
            r"^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?(?:\s+|$)",
        )
        .unwrap(),
        // Section headers of a copied job page end in the section's duration (gitlab-runner.md
        // §2.3); only the headers the research names are trimmed.
        duration: Regex::new(
            r"^((?:Preparing the |Preparing environment|Getting source from Git repository|Resolving secrets|Cleaning up project directory).*?)\s+\d{2}:\d{2}$",
        )
        .unwrap(),
        line_link: Regex::new(r"\[(\d+)\]\(https?://[^\s)]*/-/jobs/\d+#L\d+\)").unwrap(),
    })
}

/// Bytes as pasted → the lines of the job page.
pub fn clean(input: &[u8]) -> (Vec<Line>, Shape) {
    let mut shape = Shape::default();
    let text = match std::str::from_utf8(input) {
        Ok(t) => t.to_string(),
        Err(_) => {
            shape.invalid_utf8 = true;
            String::from_utf8_lossy(input).into_owned()
        }
    };
    let r = res();
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let mut l = raw.to_string();
        if r.marker.is_match(&l) {
            shape.section_markers = true;
            l = r.marker.replace_all(&l, "").into_owned();
        }
        if l.contains('\x1b') {
            shape.ansi = true;
            l = r.ansi.replace_all(&l, "").into_owned();
        }
        if r.bare_ansi.is_match(&l) {
            l = r.bare_ansi.replace_all(&l, "").into_owned();
        }
        if r.line_link.is_match(&l) {
            shape.line_links = true;
            l = r.line_link.replace_all(&l, "$1").into_owned();
        }
        // A carriage return inside a line: a terminal shows what was written last.
        let l = l.trim_end_matches('\r');
        let mut l = l.rsplit('\r').find(|s| !s.trim().is_empty()).unwrap_or("").to_string();
        if let Some(m) = r.runner_ts.find(&l) {
            shape.runner_timestamps = true;
            l = l[m.end()..].to_string();
        } else if let Some(m) = r.iso_ts.find(&l) {
            shape.other_timestamps = true;
            l = l[m.end()..].to_string();
        }
        // A rendered list bullet or a mail/markdown quote in front of a pasted line (seed 002's
        // documentation prints the runner's line as a bullet item).
        let l = l.trim_end();
        let l = match l.trim_start().strip_prefix(['•', '>']) {
            Some(rest) => rest.trim_start().to_string(),
            None => l.to_string(),
        };
        let l = match r.duration.captures(&l) {
            Some(c) => {
                shape.section_durations = true;
                c[1].to_string()
            }
            None => l,
        };
        if l.trim().is_empty() {
            continue;
        }
        out.push(Line { number: i + 1, text: l });
    }
    (out, shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<String> {
        clean(input.as_bytes()).0.into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn raw_trace_becomes_page_text() {
        let raw = "\x1b[0KRunning with gitlab-runner 16.2.0 (782e15da)\x1b[0;m\n\
                   section_start:1701766800:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the \"docker\" executor\x1b[0;m\x1b[0;m\n\
                   \x1b[0;33mWARNING: w\x1b[0;m\nsection_end:1701766800:prepare_executor\r\x1b[0K\x1b[31;1mERROR: Job failed: x\n\x1b[0;m\n";
        let (lines, shape) = clean(raw.as_bytes());
        let t: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            t,
            [
                "Running with gitlab-runner 16.2.0 (782e15da)",
                "Preparing the \"docker\" executor",
                "WARNING: w",
                "ERROR: Job failed: x"
            ]
        );
        assert!(shape.ansi && shape.section_markers);
    }

    #[test]
    fn timestamps_and_durations_go() {
        assert_eq!(
            texts("2025-01-01T00:00:00.123456Z 00O Pulling docker image a/b:1 ...\r\n2024-05-21 10:00:00 ERROR: x"),
            ["Pulling docker image a/b:1 ...", "ERROR: x"]
        );
        assert_eq!(
            texts("Preparing the \"docker+machine\" executor 00:05\n[info] kept 12:54"),
            ["Preparing the \"docker+machine\" executor", "[info] kept 12:54"]
        );
    }

    #[test]
    fn job_page_line_links_unwrap() {
        let (lines, shape) = clean(
            b"(manager.go:23[7](https://gitlab.example.com/g/p/-/jobs/52751479#L7):0s)\nimage \"a/b:[9](https://gitlab.example.com/g/p/-/jobs/1#L9)x\"",
        );
        assert_eq!(lines[0].text, "(manager.go:237:0s)");
        assert_eq!(lines[1].text, "image \"a/b:9x\"");
        assert!(shape.line_links);
    }

    #[test]
    fn anything_goes_without_panic() {
        for input in [
            &b""[..],
            b"\xff\xfe\x00",
            b"\r\r\r",
            b"section_start:",
            b"\x1b[",
            b"\x1b",
        ] {
            let _ = clean(input);
        }
    }
}
