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

#[cfg(test)]
mod tests {
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
