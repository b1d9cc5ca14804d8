//! The job log after the preparation, per gitlab-runner release: the user script's section and
//! header, the cleanup section, whether a docker executor names the build image again when the
//! script's container is created, and the last line (runner-executors-credentials.md §3.4, §8;
//! gitlab-runner.md §2.5, §5.2).

use crate::versions::{Era, era, lookup, v};
use semver::Version;

/// What the runner writes around the user script in one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptStages {
    /// The section of `before_script` + `script` and its header; `None` before sections (≤ 12.8).
    pub user_script: Option<(&'static str, &'static str)>,
    /// The section that removes the file-based variables, and its header; `None` before 13.5.
    pub cleanup: Option<(&'static str, &'static str)>,
    /// The docker executor prints `Using docker image … for IMAGE …` again when a later stage
    /// creates a container from the build image (the pull manager marks every image it returns).
    pub build_image_line_again: bool,
}

#[rustfmt::skip]
pub fn script_stages() -> Vec<Era<ScriptStages>> {
    let row = |user_script, cleanup, build_image_line_again| ScriptStages { user_script, cleanup, build_image_line_again };
    vec![
        era(v(11, 1, 0), row(None, None, false),
            "[SRC] no stage headers before v12.9.0 (GetStageDescription absent at v12.8.0); the build image is reused \
             silently: getDockerImage returns before markImageAsUsed when wasImageUsed (v11.7.0 executors/docker/executor_docker.go:191)"),
        era(v(12, 9, 0), row(Some(("build_script", "Running before_script and script")), None, false),
            "[SRC] v12.9.0 common/build.go:68,272 (stage build_script); v13.0.0 :296; wasImageUsed still returns first (v12.9.0 executors/docker/docker.go:219)"),
        era(v(13, 1, 0), row(Some(("step_script", "Executing \"step_script\" stage of the job script")), None, false),
            "[SRC] v13.1.0 common/build.go:356 (GetStageDescription's fallback `Executing %q stage of the job script`)"),
        era(v(13, 5, 0), row(Some(("step_script", "Executing \"step_script\" stage of the job script")),
                             Some(("cleanup_file_variables", "Cleaning up file based variables")), false),
            "[SRC] v13.5.0 common/build.go:82,407 (removeFileBasedVariables runs the stage after every script, :523)"),
        era(v(13, 9, 0), row(Some(("step_script", "Executing \"step_script\" stage of the job script")),
                             Some(("cleanup_file_variables", "Cleaning up file based variables")), true),
            "[SRC] v13.9.0 executors/docker/internal/pull/manager.go GetDockerImage: markImageAsUsed after every \
             successful lookup, including a used image (:60-95, :132); the same at v16.2.0 and v19.3.0 (:161)"),
        era(v(14, 3, 0), row(Some(("step_script", "Executing \"step_script\" stage of the job script")),
                             Some(("cleanup_file_variables", "Cleaning up project directory and file based variables")), true),
            "[SRC] v14.3.0 common/build.go:415; v16.2.0 :412"),
    ]
}

/// The row for `version` (every modelled release has one).
pub fn stages(version: &Version) -> &'static Era<ScriptStages> {
    static TABLE: std::sync::OnceLock<Vec<Era<ScriptStages>>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(script_stages);
    lookup(table, version).unwrap_or(&table[0])
}

/// How each executor words a script that exits non-zero (the error inside `ERROR: Job failed: …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptFailure {
    /// docker, docker+machine, docker-autoscaler: `exit code N` [SRC] v11.7.0
    /// executors/docker/executor_docker.go:992, v12.9.0 docker.go:855, v13.1.0 – v16.2.0
    /// executors/docker/internal/wait/wait.go:92/:100 (`fmt.Errorf("exit code %d", …)`).
    DockerExitCode,
    /// shell: Go's `*exec.ExitError`, `exit status N` [SRC] v13.1.0 executors/shell/shell.go:122,
    /// v16.2.0 :92, v19.3.0 :111 (the BuildError's inner error is the wait error itself).
    ShellExitStatus,
    /// kubernetes: `command terminated with exit code N` [SRC] v16.2.0
    /// executors/kubernetes/kubernetes.go:143.
    KubernetesCommandTerminated,
}

impl ScriptFailure {
    pub fn text(self, code: i32) -> String {
        match self {
            ScriptFailure::DockerExitCode => format!("exit code {code}"),
            ScriptFailure::ShellExitStatus => format!("exit status {code}"),
            ScriptFailure::KubernetesCommandTerminated => format!("command terminated with exit code {code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_releases() {
        assert_eq!(stages(&v(12, 8, 0)).value.user_script, None);
        assert_eq!(
            stages(&v(13, 0, 0)).value.user_script.unwrap().1,
            "Running before_script and script"
        );
        assert_eq!(stages(&v(13, 4, 0)).value.cleanup, None);
        assert_eq!(
            stages(&v(14, 2, 0)).value.cleanup.unwrap().1,
            "Cleaning up file based variables"
        );
        assert_eq!(
            stages(&v(16, 2, 0)).value.cleanup.unwrap().1,
            "Cleaning up project directory and file based variables"
        );
        assert!(!stages(&v(13, 8, 0)).value.build_image_line_again);
        assert!(stages(&v(13, 9, 0)).value.build_image_line_again);
        assert_eq!(ScriptFailure::ShellExitStatus.text(1), "exit status 1");
    }
}
