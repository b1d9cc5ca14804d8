//! Version knowledge as data: each table maps the first release of an era to that era's
//! behaviour, with the source the fact was read from. A lookup takes the last row whose start
//! is at or below the version, so patch releases inherit their minor's behaviour unless a row
//! says otherwise.

pub mod containerd;
pub mod containers_tools;
pub mod dind;
pub mod docker;
pub mod docker_cli;
pub mod docker_hub;
pub mod executors;
pub mod feature_flags;
pub mod gitlab;
pub mod job_script;
pub mod kaniko;
pub mod kubelet;
pub mod runner;
pub mod sbt_native_packager;

use semver::Version;
use std::fmt;

/// One era of a versioned behaviour.
#[derive(Debug, Clone)]
pub struct Era<T> {
    pub since: Version,
    pub value: T,
    /// Where the fact comes from: a research note section, a tag, or a real daemon's output.
    pub source: &'static str,
}

pub const fn v(major: u64, minor: u64, patch: u64) -> Version {
    Version::new(major, minor, patch)
}

pub fn era<T>(since: Version, value: T, source: &'static str) -> Era<T> {
    Era { since, value, source }
}

/// Last era that started at or before `version`; `None` when `version` predates the table.
pub fn lookup<'a, T>(table: &'a [Era<T>], version: &Version) -> Option<&'a Era<T>> {
    table.iter().rev().find(|e| {
        // Compare without pre-release/build so `16.3.0~beta` style versions fall in 16.3.
        let base = Version::new(version.major, version.minor, version.patch);
        e.since <= base
    })
}

/// Parses versions as people write them: `16`, `16.2`, `16.2.7`, `v16.2.7`, Docker's `19.03.15`
/// (leading zeros) and `20.10.24+dfsg1` (a packager's suffix, ignored).
pub fn parse_version(text: &str) -> Result<Version, NotAVersion> {
    let t = text.trim().trim_start_matches('v');
    let core = t.split(['+', '~']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let not_a_version = || NotAVersion(text.to_string());
    if core.is_empty() || parts.len() > 3 {
        return Err(not_a_version());
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        nums[i] = p.parse().map_err(|_| not_a_version())?;
    }
    Ok(Version::new(nums[0], nums[1], nums[2]))
}

/// A text that is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version (expected e.g. 16.2.7)")]
pub struct NotAVersion(pub String);

/// A version as people write it (`20.10.24`, `16.2.0`).
pub struct Shown<'a>(pub &'a Version);
impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_takes_last_started_era() {
        let t = [
            era(v(1, 0, 0), "a", "s"),
            era(v(2, 0, 0), "b", "s"),
            era(v(2, 5, 1), "c", "s"),
        ];
        assert!(lookup(&t, &v(0, 9, 0)).is_none());
        assert_eq!(lookup(&t, &v(1, 9, 9)).unwrap().value, "a");
        assert_eq!(lookup(&t, &v(2, 5, 0)).unwrap().value, "b");
        assert_eq!(lookup(&t, &v(2, 5, 1)).unwrap().value, "c");
        assert_eq!(lookup(&t, &v(9, 0, 0)).unwrap().value, "c");
    }

    #[test]
    fn parses_short_versions() {
        assert_eq!(parse_version("16").unwrap(), v(16, 0, 0));
        assert_eq!(parse_version("16.2").unwrap(), v(16, 2, 0));
        assert_eq!(parse_version("v20.10.24").unwrap(), v(20, 10, 24));
        assert_eq!(parse_version("19.03.15").unwrap(), v(19, 3, 15));
        assert_eq!(parse_version("20.10.24+dfsg1").unwrap(), v(20, 10, 24));
        assert!(parse_version("sixteen").is_err());
        assert!(parse_version("1.2.3.4").is_err());
    }
}
