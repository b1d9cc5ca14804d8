//! The job trace as the runner writes it: colour prefixes, resets, section markers
//! (gitlab-runner.md §2.1, §2.3), and the plain text a user copies from the job page.

use regsim_model::versions::runner::ResetPlacement;

pub const CLEAR: &str = "\x1b[0K";
pub const RESET: &str = "\x1b[0;m";
pub const BOLD_GREEN: &str = "\x1b[32;1m";
pub const BOLD_RED: &str = "\x1b[31;1m";
pub const BOLD_CYAN: &str = "\x1b[36;1m";
pub const YELLOW: &str = "\x1b[0;33m";

pub struct Trace {
    reset: ResetPlacement,
    raw: String,
}

impl Trace {
    pub fn new(reset: ResetPlacement) -> Self {
        Trace {
            reset,
            raw: String::new(),
        }
    }

    /// `prefix + Sprintln(args)` with the era's reset placement.
    fn line(&mut self, prefix: &str, text: &str) {
        match self.reset {
            ResetPlacement::BeforeNewline => {
                self.raw.push_str(prefix);
                self.raw.push_str(text);
                self.raw.push_str(RESET);
                self.raw.push('\n');
            }
            ResetPlacement::AfterNewline => {
                self.raw.push_str(prefix);
                self.raw.push_str(text);
                self.raw.push('\n');
                self.raw.push_str(RESET);
            }
        }
    }

    pub fn println(&mut self, text: &str) {
        self.line(CLEAR, text);
    }
    pub fn infoln(&mut self, text: &str) {
        self.line(BOLD_GREEN, text);
    }
    pub fn warningln(&mut self, text: &str) {
        self.line(&format!("{YELLOW}WARNING: "), text);
    }
    /// `SoftErrorln` and `Errorln` write the same bytes.
    pub fn errorln(&mut self, text: &str) {
        self.line(&format!("{BOLD_RED}ERROR: "), text);
    }
    /// Bytes written to the trace as they are (`fmt.Fprintf(s.Trace, …)`): no prefix, no reset.
    pub fn write_raw(&mut self, text: &str) {
        self.raw.push_str(text);
    }
    pub fn section_start(&mut self, name: &str, unix: i64) {
        self.raw.push_str(&format!("section_start:{unix}:{name}\r{CLEAR}"));
    }
    /// A section's start marker and its bold cyan header (`BuildSection` with the header the
    /// runner prints first, common/build.go).
    pub fn open_section(&mut self, name: &str, unix: i64, header: &str) {
        self.section_start(name, unix);
        self.println(&format!("{BOLD_CYAN}{header}{RESET}"));
    }
    pub fn section_end(&mut self, name: &str, unix: i64) {
        self.raw.push_str(&format!("section_end:{unix}:{name}\r{CLEAR}"));
    }
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

/// The trace without section markers and ANSI sequences: the text of the job page.
pub fn plain(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        if (rest.starts_with("section_start:") || rest.starts_with("section_end:"))
            && let Some(i) = rest.find('\r')
        {
            rest = &rest[i + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix('\x1b')
            && let Some(body) = after.strip_prefix('[')
        {
            let end = body
                .find(|c: char| c.is_ascii_alphabetic())
                .map(|i| i + 1)
                .unwrap_or(body.len());
            rest = &body[end..];
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The time of the last section marker in a raw trace.
pub fn last_marker_time(raw: &str) -> Option<i64> {
    let i = raw.rfind("section_")?;
    raw[i..].split(':').nth(1)?.parse().ok()
}

/// One section as the job page shows it: its header line and duration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    pub name: String,
    pub header: String,
    /// `MM:SS`, or `HH:MM:SS` from an hour.
    pub duration: String,
}

/// The duration GitLab shows beside a section's header: end minus start in whole seconds
/// (`Ansi2json::State#close_section`), as `MM:SS` under an hour. From an hour GitLab 14.x and
/// later write `HH:MM:SS` (earlier ones dropped the hours: the release of the change is NOT
/// CONFIRMED, gitlab-runner.md §2.3).
pub fn duration_text(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h:02}:{m:02}:{sec:02}")
    } else {
        format!("{m:02}:{sec:02}")
    }
}

/// The sections of a raw trace, in order: each one's first line (its header) and the time
/// between its two markers. A section left open (the trace stops inside it) is not listed.
pub fn sections(raw: &str) -> Vec<Section> {
    let mut open: Vec<(String, i64, usize)> = Vec::new();
    let mut out: Vec<(usize, Section)> = Vec::new();
    let mut rest = raw;
    let mut order = 0;
    while let Some(i) = rest.find("section_") {
        rest = &rest[i..];
        let Some(end) = rest.find('\r') else { break };
        let marker = &rest[..end];
        rest = &rest[end + 1..];
        let mut parts = marker.splitn(3, ':');
        let (Some(kind), Some(ts), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(ts) = ts.parse::<i64>() else { continue };
        match kind {
            "section_start" => {
                open.push((name.to_string(), ts, order));
                order += 1;
                // The header: the rest of the line, ANSI sequences stripped.
                let line = rest.split('\n').next().unwrap_or_default();
                let header = plain(line);
                out.push((
                    order - 1,
                    Section {
                        name: name.to_string(),
                        header: header.trim().to_string(),
                        duration: String::new(),
                    },
                ));
            }
            "section_end" => {
                if let Some(pos) = open.iter().rposition(|(n, _, _)| n == name) {
                    let (_, start, idx) = open.remove(pos);
                    if let Some((_, s)) = out.iter_mut().find(|(i, _)| *i == idx) {
                        s.duration = duration_text(ts - start);
                    }
                }
            }
            _ => {}
        }
    }
    out.into_iter()
        .filter(|(_, s)| !s.duration.is_empty())
        .map(|(_, s)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sections_carry_their_duration() {
        let mut t = super::Trace::new(regsim_model::versions::runner::ResetPlacement::BeforeNewline);
        t.section_start("prepare_executor", 10);
        t.println("\x1b[36;1mPreparing the \"kubernetes\" executor\x1b[0;m");
        t.section_end("prepare_executor", 10);
        t.section_start("prepare_script", 10);
        t.println("\x1b[36;1mPreparing environment\x1b[0;m");
        t.section_end("prepare_script", 13);
        let s = super::sections(t.raw());
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].header.as_str(), s[0].duration.as_str()),
            ("Preparing the \"kubernetes\" executor", "00:00")
        );
        assert_eq!(
            (s[1].header.as_str(), s[1].duration.as_str()),
            ("Preparing environment", "00:03")
        );
        assert_eq!(super::duration_text(75), "01:15");
        assert_eq!(super::duration_text(3725), "01:02:05");
    }

    use super::*;

    #[test]
    fn resets_follow_the_era_and_plain_strips_them() {
        let mut t = Trace::new(ResetPlacement::BeforeNewline);
        t.section_start("prepare_executor", 1);
        t.println(&format!("{BOLD_CYAN}Preparing the \"docker\" executor{RESET}"));
        t.warningln("w");
        t.section_end("prepare_executor", 2);
        t.errorln("Job failed: x\n");
        assert_eq!(
            t.raw(),
            "section_start:1:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the \"docker\" executor\x1b[0;m\x1b[0;m\n\
             \x1b[0;33mWARNING: w\x1b[0;m\nsection_end:2:prepare_executor\r\x1b[0K\x1b[31;1mERROR: Job failed: x\n\x1b[0;m\n"
        );
        assert_eq!(
            plain(t.raw()),
            "Preparing the \"docker\" executor\nWARNING: w\nERROR: Job failed: x\n\n"
        );
        let mut old = Trace::new(ResetPlacement::AfterNewline);
        old.println("a");
        old.println("b");
        assert_eq!(old.raw(), "\x1b[0Ka\n\x1b[0;m\x1b[0Kb\n\x1b[0;m");
        assert_eq!(plain(old.raw()), "a\nb\n");
    }
}
