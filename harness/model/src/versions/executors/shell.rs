//! The shell executor (`executors/shell`): no image, the job's commands on the runner host as
//! the runner's user (runner-executors-credentials.md §4, §6).

use crate::versions::{Era, era, v};

/// The line `Prepare` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsingLine {
    /// `Using Shell executor...`
    Plain,
    /// `Using Shell (bash) executor...` (the configured shell's name).
    WithShell,
}

impl UsingLine {
    pub fn text(self, shell: &str) -> String {
        match self {
            UsingLine::Plain => "Using Shell executor...".into(),
            UsingLine::WithShell => format!("Using Shell ({shell}) executor..."),
        }
    }
}

#[rustfmt::skip]
pub fn using_line() -> Vec<Era<UsingLine>> {
    use UsingLine::*;
    vec![
        era(v(10, 0, 0), Plain,     "[SRC] v15.8.0 executors/shell/shell.go:61 s.Println(\"Using Shell executor...\")"),
        era(v(15, 9, 0), WithShell, "[SRC] v15.9.0 executors/shell/shell.go:61 (4ca66a729); v17.5.0 :58"),
    ]
}

/// Where the shell user's Docker CLI keeps its logins: `~/.docker/config.json` of the user the
/// runner runs the job as (`gitlab-runner` for a package install).
pub const DEFAULT_HOME: &str = "/home/gitlab-runner";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versions::lookup;

    #[test]
    fn the_shell_name_appears_from_15_9() {
        let t = using_line();
        assert_eq!(
            lookup(&t, &v(15, 8, 3)).unwrap().value.text("bash"),
            "Using Shell executor..."
        );
        assert_eq!(
            lookup(&t, &v(15, 9, 0)).unwrap().value.text("bash"),
            "Using Shell (bash) executor..."
        );
    }
}
