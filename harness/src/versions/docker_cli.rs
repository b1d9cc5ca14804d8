//! The Docker CLI inside a job (a job image with its own `docker`, talking to the runner host's
//! daemon through the mounted socket): what it prints itself and what it sends. The daemon's own
//! words (push and build streams, errors) are in `docker.rs`.

use super::{Era, era, lookup, v};
use semver::Version;

/// What `docker login -u U -p P HOST` prints around the daemon's `Login Succeeded`
/// (facts: docker/cli and moby at the tags in each row's source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutput {
    /// Only the daemon's status line.
    StatusOnly,
    /// stderr `WARNING! Using --password via the CLI is insecure. Use --password-stdin.` first.
    PasswordWarning,
    /// That warning, then after storing: `WARNING! Your password will be stored unencrypted in
    /// PATH.` / `Configure a credential helper to remove this warning. See` / URL / empty line.
    PasswordWarningAndStoreNotice { url: &'static str },
}

impl LoginOutput {
    /// The lines before `Login Succeeded` for a `-p` login storing into `config_path`.
    pub fn before_status(&self, config_path: &str) -> String {
        let warning = "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
        match self {
            LoginOutput::StatusOnly => String::new(),
            LoginOutput::PasswordWarning => warning.to_string(),
            LoginOutput::PasswordWarningAndStoreNotice { url } => format!(
                "{warning}WARNING! Your password will be stored unencrypted in {config_path}.\n\
                 Configure a credential helper to remove this warning. See\n{url}\n\n"
            ),
        }
    }
}

/// The credentials the CLI puts into `X-Registry-Auth` for `docker push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushCredentials {
    /// The entry `docker login` stored for the registry (`ResolveAuthConfig`, key = index name).
    FromConfigFile,
    /// HYPOTHESIS (seed 003): nothing usable reaches the daemon, which asks GitLab anonymously.
    NoneUsable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientProfile {
    pub version: Version,
    pub login: LoginOutput,
    pub push_credentials: PushCredentials,
    pub source: &'static str,
}

const STORE_URL_18: &str = "https://docs.docker.com/engine/reference/commandline/login/#credentials-store";
const STORE_URL_27: &str = "https://docs.docker.com/engine/reference/commandline/login/#credential-stores";

/// One row per client era, oldest first. `None`: the era's texts are not researched.
#[rustfmt::skip]
pub fn client_table() -> Vec<Era<Option<(LoginOutput, PushCredentials)>>> {
    vec![
        era(v(1, 13, 1), Some((LoginOutput::StatusOnly, PushCredentials::NoneUsable)),
            "login: moby@v1.13.1 cli/command/registry/login.go (prints response.Status only). push credentials: HYPOTHESIS, \
             docker-errors.md §6.1 — GitLab's `denied: access forbidden` means the token request carried no usable \
             credentials (facts 1–2, high confidence); the post's daemon-side lines (`Successfully tagged`, `The push refers \
             to repository`) are ≥ 17.12 daemon texts, so the host daemon made that request and Go 1.7's redirect rule \
             (candidate 6) cannot explain it; why this CLI's X-Registry-Auth carried nothing usable is NOT established"),
        era(v(17, 0, 0), None, "17.03 – 17.05 clients: not researched"),
        era(v(17, 6, 0), Some((LoginOutput::StatusOnly, PushCredentials::FromConfigFile)),
            "docker/cli v17.06.0-ce components/cli/cli/command/registry/login.go:79-81 (research note docker-cli.md Q1, Q2)"),
        era(v(17, 7, 0), Some((LoginOutput::PasswordWarning, PushCredentials::FromConfigFile)),
            "docker/cli v17.09.0-ce components/cli/cli/command/registry/login.go:54-59 (warning from v17.07.0-ce, commit e2d2afd9bf)"),
        era(v(18, 4, 0), Some((LoginOutput::PasswordWarningAndStoreNotice { url: STORE_URL_18 }, PushCredentials::FromConfigFile)),
            "docker/cli v18.09.0 cli/command/registry/login.go:19-22,62-66,142-158 (18.04.0 also prompts on a terminal; a job has none)"),
        era(v(27, 0, 1), Some((LoginOutput::PasswordWarningAndStoreNotice { url: STORE_URL_27 }, PushCredentials::FromConfigFile)),
            "docker/cli v27.0.1 cli/command/registry/login.go:23"),
        era(v(28, 0, 0), None, "28.0+ clients reword the store notice and print it only when the entry changed: not modelled"),
    ]
}

pub fn profile(version: &Version) -> Result<ClientProfile, String> {
    let table = client_table();
    let row = lookup(&table, version)
        .ok_or_else(|| format!("Docker CLI {version}: older than every modelled client (1.13.1)"))?;
    match &row.value {
        Some((login, push_credentials)) => Ok(ClientProfile {
            version: version.clone(),
            login: login.clone(),
            push_credentials: push_credentials.clone(),
            source: row.source,
        }),
        None => Err(format!("Docker CLI {version}: {}", row.source)),
    }
}
