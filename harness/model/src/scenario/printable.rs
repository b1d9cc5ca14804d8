//! Scenario text made safe to print: control characters become visible escapes (`\u{1b}`), so a
//! description or a name cannot move a terminal's cursor, change its colours or retitle its
//! window. Job logs are not passed through here: their bytes are the runner's, colours included.

use std::borrow::Cow;

/// Every control character escaped, line breaks and tabs too: for text printed on one line
/// (names, fields, error messages).
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape(s, |_| false)
}

/// Control characters escaped but line breaks and tabs, which belong in paragraphs (a
/// description, a server's multi-line answer).
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, |c| matches!(c, '\n' | '\t'))
}

fn escape(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && !keep(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_escapes() {
        assert_eq!(one_line("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(text("a\u{1b}]0;x\u{7}\n\tb\u{9b}"), "a\\u{1b}]0;x\\u{7}\n\tb\\u{9b}");
        assert!(matches!(text("plain\nline"), Cow::Borrowed(_)));
    }
}
