//! Secrets a user typed (passwords, tokens) as regsim prints them: never whole. GitLab masks a
//! masked CI/CD variable as `[MASKED]`; regsim keeps that word and adds just enough to tell two
//! secrets apart — the length, and the first two characters of one long enough to spare them —
//! and a trailing blank or control character, which is never part of a real secret and is the
//! usual reason one does not match (`echo name:token | base64` keeps echo's newline).

/// `[MASKED: 21 characters, begins "My"]`; a secret under 8 characters shows no character;
/// `…, ends "\n"]` when it ends in whitespace or a control character.
pub fn masked(secret: &str) -> String {
    let n = secret.chars().count();
    let unit = if n == 1 { "character" } else { "characters" };
    let mut shown = format!("[MASKED: {n} {unit}");
    if n >= 8 {
        let begins: String = secret.chars().take(2).flat_map(char::escape_debug).collect();
        shown.push_str(&format!(", begins \"{begins}\""));
    }
    if let Some(last) = secret.chars().last().filter(|c| c.is_whitespace() || c.is_control()) {
        shown.push_str(&format!(", ends \"{}\"", last.escape_debug()));
    }
    shown.push(']');
    shown
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_length_and_a_start_only() {
        assert_eq!(
            super::masked("MyRealGitLabPassw0rd!"),
            "[MASKED: 21 characters, begins \"My\"]"
        );
        assert_eq!(super::masked("jt"), "[MASKED: 2 characters]");
        assert_eq!(
            super::masked("my_project_access_token\n"),
            "[MASKED: 24 characters, begins \"my\", ends \"\\n\"]"
        );
        assert_eq!(super::masked(""), "[MASKED: 0 characters]");
        assert!(!super::masked("glpat-abcdefghijkl").contains("abc"));
    }
}
