//! kaniko's executor in a job (`gcr.io/kaniko-project/executor:…-debug`): its push-permission
//! check, the one step of a kaniko job regsim simulates (the build itself logs with elapsed-time
//! stamps and is not simulated). The registry client is go-containerregistry (ggcr), the
//! config.json reader docker/cli's, both vendored per release. Facts:
//! docs/research/clients-inside-job.md §4.

use regsim_wire::NotModelled;
use semver::Version;

/// How the vendored docker/cli words a config.json it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigParseError {
    /// `FILENAME: ERROR` (docker/cli v26.1.4 cli/config/config.go load: `errors.Wrap(err, filename)`).
    Filename,
    /// `parsing config file (FILENAME): ERROR` (docker/cli v28.1.1 load: `errors.Wrapf(err,
    /// "parsing config file (%s)", filename)`).
    ParsingConfigFile,
}

impl ConfigParseError {
    pub fn wrap(self, filename: &str, error: &str) -> String {
        match self {
            ConfigParseError::Filename => format!("{filename}: {error}"),
            ConfigParseError::ParsingConfigFile => format!("parsing config file ({filename}): {error}"),
        }
    }
}

/// One kaniko release as regsim models it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KanikoProfile {
    pub version: Version,
    /// The go-containerregistry release vendored (go.mod).
    pub ggcr: &'static str,
    /// The docker/cli release vendored (go.mod).
    pub docker_cli: &'static str,
    pub config_parse_error: ConfigParseError,
    pub source: &'static str,
}

/// What kaniko prints before the error of a failed push-permission check (pkg/errors Wrap:
/// `MESSAGE: CAUSE`), on stderr, exit 1 (cmd/executor/cmd/root.go `exit`: `fmt.Fprintln(os.Stderr,
/// err)`, `os.Exit(1)`), read at v1.23.2 and v1.24.0.
pub const PUSH_CHECK_PREFIX: &str = "error checking push permissions -- make sure you entered the correct tag name, and that you are authenticated correctly, and try again";

/// The releases modelled: the last two, whose vendored libraries were read. Older ones vendor
/// older ggcr and docker/cli releases whose texts were not compared.
pub fn profile(version: &Version) -> Result<KanikoProfile, NotModelled> {
    let row = |ggcr, docker_cli, config_parse_error, source| KanikoProfile {
        version: version.clone(),
        ggcr,
        docker_cli,
        config_parse_error,
        source,
    };
    match (version.major, version.minor, version.patch) {
        (1, 23, 2) => Ok(row(
            "v0.19.2",
            "v26.1.4",
            ConfigParseError::Filename,
            "kaniko v1.23.2 go.mod (ggcr v0.19.2, docker/cli v26.1.4); cmd/executor/cmd/root.go, pkg/executor/push.go, pkg/creds/creds.go",
        )),
        (1, 24, 0) => Ok(row(
            "v0.20.4",
            "v28.1.1",
            ConfigParseError::ParsingConfigFile,
            "kaniko v1.24.0 go.mod (ggcr v0.20.4, docker/cli v28.1.1); the same executor files",
        )),
        _ => Err(NotModelled::new(format!(
            "kaniko {version}: regsim models 1.23.2 and 1.24.0 (the last releases; kaniko is archived), whose \
             vendored go-containerregistry and docker/cli were read; other releases vendor others"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_releases_two_config_wordings() {
        let a = profile(&Version::new(1, 23, 2)).unwrap();
        let b = profile(&Version::new(1, 24, 0)).unwrap();
        assert_eq!(a.config_parse_error.wrap("/f", "e"), "/f: e");
        assert_eq!(b.config_parse_error.wrap("/f", "e"), "parsing config file (/f): e");
        assert!(profile(&Version::new(1, 9, 0)).is_err());
    }
}
