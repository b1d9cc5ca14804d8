//! podman and buildah inside a job: tools built on containers/image (c/image, the registry
//! client) and containers/common (c/common: `login`, `logout`, libimage's pull). What they print
//! is c/image's error chain under the tool's own prefix. Facts: docs/research/clients-inside-job.md §5.
//!
//! Only the builds this repository can check against are modelled: Debian 12's podman 4.3.1 and
//! buildah 1.28.2, both linked against Debian's c/image 5.23.1 and c/common 0.50.1 [OBS `dpkg -l`
//! on the machine the conformance suite runs on]. Other releases vendor other library versions
//! (5.24 keeps only the first of several registry errors, clients-inside-job.md §5.2), which
//! upstream go.mod files would tell; they were not read, so those releases are refused.

use regsim_wire::NotModelled;
use semver::Version;

/// Which tool a script line runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Tool {
    Podman,
    Buildah,
}

impl Tool {
    pub fn command(self) -> &'static str {
        match self {
            Tool::Podman => "podman",
            Tool::Buildah => "buildah",
        }
    }
}

/// What `pull` does when the image is already in local storage (the tool's default
/// `--policy` / `--pull`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullDefault {
    /// Pull again (podman pull's default `always`).
    Always,
    /// Print the image ID and contact nobody (buildah pull's default `missing`).
    Missing,
}

/// One tool release as this repository models it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolProfile {
    pub tool: Tool,
    pub version: Version,
    /// The containers/image release the build links (its texts are c/image's).
    pub c_image: &'static str,
    /// The containers/common release (login and logout texts, libimage).
    pub c_common: &'static str,
    /// The Go release: Go ≥ 1.14 quotes the URL in `Get "https://…/v2/": …`.
    pub go: &'static str,
    /// `push` wraps c/image's error as `pushing image "SRC" to "docker://DST": …` (buildah) or
    /// prints it bare (podman) [OBS].
    pub push_wrap: bool,
    pub pull_default: PullDefault,
    pub source: &'static str,
}

/// Every error a tool returns is printed as `Error: MESSAGE` on stderr and the tool exits 125
/// [OBS podman 4.3.1, buildah 1.28.2: `rc=125` for a failed login, pull and push].
pub const ERROR_EXIT: i32 = 125;

const DEBIAN_12: &str = "[OBS] Debian 12 packages podman 4.3.1+ds1-8+deb12u1 and buildah 1.28.2+ds1-3+deb12u1, \
     built against golang-github-containers-image 5.23.1-4 and golang-github-containers-common 0.50.1+ds1-4 \
     (`dpkg -l`); `podman version`: Go 1.19.8";

/// The releases regsim words; any other is refused with the reason.
pub fn profile(tool: Tool, version: &Version) -> Result<ToolProfile, NotModelled> {
    let (known, push_wrap, pull_default) = match tool {
        Tool::Podman => (Version::new(4, 3, 1), false, PullDefault::Always),
        Tool::Buildah => (Version::new(1, 28, 2), true, PullDefault::Missing),
    };
    if *version != known {
        return Err(NotModelled::new(format!(
            "{} {version}: regsim models only the {known} build Debian 12 ships (c/image 5.23.1, c/common 0.50.1), \
             the one its conformance suite runs; other releases vendor other c/image versions whose texts differ \
             (5.24 keeps only the first registry error)",
            tool.command()
        )));
    }
    Ok(ToolProfile {
        tool,
        version: known,
        c_image: "5.23.1",
        c_common: "0.50.1",
        go: "1.19.8",
        push_wrap,
        pull_default,
        source: DEBIAN_12,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_debian_builds_are_modelled() {
        assert!(profile(Tool::Podman, &Version::new(4, 3, 1)).is_ok());
        assert!(profile(Tool::Buildah, &Version::new(1, 28, 2)).unwrap().push_wrap);
        let e = profile(Tool::Podman, &Version::new(5, 0, 0)).unwrap_err();
        assert!(e.reason.contains("4.3.1"), "{}", e.reason);
    }
}
