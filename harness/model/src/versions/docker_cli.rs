//! The Docker CLI inside a job (a job image with its own `docker`, talking to the runner host's
//! daemon through the mounted socket): what it prints itself and what it sends. The daemon's own
//! words (push and build streams, errors) are in `docker.rs`.

use super::{Era, era, lookup, v};
use regsim_wire::NotModelled;
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
    /// 28.0 →: the file store prints an empty line, `WARNING! Your credentials are stored
    /// unencrypted in 'PATH'.`, the same second line, the URL and an empty line — only when the
    /// stored entry changed (docker-cli.md Q1 block B).
    PasswordWarningAndChangedStoreNotice,
}

impl LoginOutput {
    /// What the CLI prints before it asks the daemon (the `-p` warning), whatever the answer
    /// [OBS Docker CLI 20.10.24 and 28.2.2: the warning, then the daemon's error, on a failed
    /// login; tests/tls_real_daemon.rs].
    pub fn before_request(&self) -> &'static str {
        match self {
            LoginOutput::StatusOnly => "",
            _ => "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
        }
    }

    /// What it prints after a successful login, before the status line: the store notice.
    /// `changed`: the login stored an entry other than the one config.json held.
    pub fn after_success(&self, config_path: &str, changed: bool) -> String {
        match self {
            LoginOutput::PasswordWarningAndChangedStoreNotice if changed => format!(
                "\nWARNING! Your credentials are stored unencrypted in '{config_path}'.\n\
                 Configure a credential helper to remove this warning. See\n\
                 https://docs.docker.com/go/credential-store/\n\n"
            ),
            LoginOutput::PasswordWarningAndStoreNotice { url } => format!(
                "WARNING! Your password will be stored unencrypted in {config_path}.\n\
                 Configure a credential helper to remove this warning. See\n{url}\n\n"
            ),
            _ => String::new(),
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

/// How `docker build` prints the size of the context it sends (`Sending build context to Docker
/// daemon %8v`, go-units `HumanSizeWithPrecision(size, 4)`; docs/research/docker-cli.md rows 182-183).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextSize {
    /// `"%.*g %s"`: `2.048 kB` (1.13.1).
    SpaceBeforeUnit,
    /// `"%.*g%s"`: `2.048kB`, padded to 8 by `%8v` (17.04 →).
    NoSpace,
}

impl ContextSize {
    /// The CLI's line for a context tar of `bytes` (the bytes it writes end in `\r\r\n`: the
    /// non-terminal progress output keeps only the last update).
    pub fn sending_line(self, bytes: u64) -> String {
        let size = human_size(bytes as f64, self == ContextSize::SpaceBeforeUnit);
        format!("Sending build context to Docker daemon {size:>8}")
    }
}

/// go-units `HumanSizeWithPrecision(size, 4)`: decimal units, Go's `%.4g` (four significant
/// digits, trailing zeros dropped).
fn human_size(mut size: f64, space: bool) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    let int_digits = if size < 1.0 {
        1
    } else {
        (size.log10().floor() as usize) + 1
    };
    let mut n = format!("{size:.*}", 4usize.saturating_sub(int_digits));
    if n.contains('.') {
        n = n.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{n}{}{}", if space { " " } else { "" }, UNITS[i])
}

/// What `docker login -u "$U" -p "$P" HOST` does when a variable is empty (stdin not a TTY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyCredentials {
    /// The CLI falls back to prompting and fails: `Error: Cannot perform an interactive login
    /// from a non TTY device`, exit 1 [OBS Docker CLI 20.10.24; SRC v28.1 has no flag check].
    NonTtyError,
    /// 28.2.0 →: `verifyLoginFlags` — `username is empty`, else `password is empty`, exit 1
    /// [SRC cli v28.2.2 cli/command/registry/login.go:70-85; OBS Docker CLI 28.2.2].
    FlagValidation,
}

/// Whether the CLI reads `DOCKER_AUTH_CONFIG` from its environment (clients-inside-job.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvAuthConfig {
    /// Before 28.3.0: the variable means nothing to the CLI [OBS Docker CLI 28.2.2: a pull with
    /// valid credentials in it still asked for an anonymous token].
    Ignored,
    /// 28.3.0 →: an in-memory store built from the variable answers first for every key it names
    /// exactly, before config.json and helpers (docker/cli#6008); from 28.3.2 `docker login`
    /// also prints the ` Warn -> DOCKER_AUTH_CONFIG is set and takes precedence.` note.
    TakesPrecedence { login_warning: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientProfile {
    pub version: Version,
    pub login: LoginOutput,
    pub push_credentials: PushCredentials,
    /// `None`: `docker build` goes through BuildKit by default (not modelled).
    pub context_size: Option<ContextSize>,
    pub empty_credentials: EmptyCredentials,
    pub env_auth_config: EnvAuthConfig,
    pub source: &'static str,
}

/// One client era's behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEra {
    pub login: LoginOutput,
    pub push_credentials: PushCredentials,
    pub context_size: Option<ContextSize>,
    pub empty_credentials: EmptyCredentials,
    pub env_auth_config: EnvAuthConfig,
}

/// The note 28.3.2 → prints on stderr for `docker login` and `docker logout` while
/// DOCKER_AUTH_CONFIG is set, as a non-terminal renders it: an empty line, the ` Warn -> `
/// header, continuation lines indented by its width, and an indented empty line from the
/// format's final newline; after the `-p` warning [SRC cli v28.3.2
/// cli/command/registry/warning.go:12-17, login.go:110-114, internal/tui/note.go:30-72
/// (printNoteWithOptions, header ` Warn -> ` of width 9); no 28.3.2 binary here].
pub const ENV_AUTH_CONFIG_LOGIN_WARNING: &str = "\n Warn -> DOCKER_AUTH_CONFIG is set and takes precedence.\n         Unset DOCKER_AUTH_CONFIG to restore the CLI auth behaviour.\n         \n";

const STORE_URL_18: &str = "https://docs.docker.com/engine/reference/commandline/login/#credentials-store";
const STORE_URL_27: &str = "https://docs.docker.com/engine/reference/commandline/login/#credential-stores";

/// One row per client era, oldest first. `None`: the era's texts are not researched.
#[rustfmt::skip]
pub fn client_table() -> Vec<Era<Option<ClientEra>>> {
    use ContextSize::*;
    use EmptyCredentials::*;
    let row = |login, push_credentials, context_size: ContextSize| Some(ClientEra {
        login, push_credentials, context_size: Some(context_size),
        empty_credentials: NonTtyError, env_auth_config: EnvAuthConfig::Ignored,
    });
    let buildkit = |login, empty_credentials, env_auth_config| Some(ClientEra {
        login, push_credentials: PushCredentials::FromConfigFile, context_size: None, empty_credentials, env_auth_config,
    });
    vec![
        era(v(1, 13, 1), row(LoginOutput::StatusOnly, PushCredentials::NoneUsable, SpaceBeforeUnit),
            "login: moby@v1.13.1 cli/command/registry/login.go (prints response.Status only). push credentials: HYPOTHESIS, \
             docker-errors.md §6.1 — GitLab's `denied: access forbidden` means the token request carried no usable \
             credentials (facts 1–2, high confidence); the post's daemon-side lines (`Successfully tagged`, `The push refers \
             to repository`) are ≥ 17.12 daemon texts, so the host daemon made that request and Go 1.7's redirect rule \
             (candidate 6) cannot explain it; why this CLI's X-Registry-Auth carried nothing usable is NOT established. \
             build context: moby v1.13.1 cli/command/image/build.go:246-251, vendor/github.com/docker/go-units/size.go:59-61"),
        era(v(17, 0, 0), None, "17.03 – 17.05 clients: not researched"),
        era(v(17, 6, 0), row(LoginOutput::StatusOnly, PushCredentials::FromConfigFile, NoSpace),
            "docker/cli v17.06.0-ce components/cli/cli/command/registry/login.go:79-81 (research note docker-cli.md Q1, Q2); build context: docker-cli.md row 183"),
        era(v(17, 7, 0), row(LoginOutput::PasswordWarning, PushCredentials::FromConfigFile, NoSpace),
            "docker/cli v17.09.0-ce components/cli/cli/command/registry/login.go:54-59 (warning from v17.07.0-ce, commit e2d2afd9bf); build context: docker-cli.md row 183"),
        era(v(18, 4, 0), row(LoginOutput::PasswordWarningAndStoreNotice { url: STORE_URL_18 }, PushCredentials::FromConfigFile, NoSpace),
            "docker/cli v18.09.0 cli/command/registry/login.go:19-22,62-66,142-158 (18.04.0 also prompts on a terminal; a job has none); build context: cli v18.09.0 cli/command/image/build.go:342-360"),
        era(v(23, 0, 0), buildkit(LoginOutput::PasswordWarningAndStoreNotice { url: STORE_URL_18 }, NonTtyError, EnvAuthConfig::Ignored),
            "login: docker/cli v24.0.0 cli/command/registry/login.go:23,145-163 (docker-cli.md Q1); build: BuildKit is the \
             default builder from 23.0 (docker/cli v23.0.0 release notes; not read at the tag), so its output is not modelled"),
        era(v(27, 0, 1), buildkit(LoginOutput::PasswordWarningAndStoreNotice { url: STORE_URL_27 }, NonTtyError, EnvAuthConfig::Ignored),
            "docker/cli v27.0.1 cli/command/registry/login.go:23"),
        era(v(28, 0, 0), buildkit(LoginOutput::PasswordWarningAndChangedStoreNotice, NonTtyError, EnvAuthConfig::Ignored),
            "docker/cli v28.0.0 cli/config/credentials/file_store.go:68-97 (the notice on a changed entry), \
             cli/command/registry/login.go:63-69,117-119 (docker-cli.md Q1); empty -u/-p: no flag check before v28.2.0-rc.1"),
        era(v(28, 2, 0), buildkit(LoginOutput::PasswordWarningAndChangedStoreNotice, FlagValidation, EnvAuthConfig::Ignored),
            "docker/cli v28.2.2 cli/command/registry/login.go:70-85 (commit e7af1812cf); [OBS] Docker CLI 28.2.2 (go1.24.3): \
             the login texts and the ignored DOCKER_AUTH_CONFIG, clients-inside-job.md §3.1, §3.3"),
        era(v(28, 3, 0), buildkit(LoginOutput::PasswordWarningAndChangedStoreNotice, FlagValidation, EnvAuthConfig::TakesPrecedence { login_warning: false }),
            "docker/cli v28.3.0 cli/config/configfile/file.go:292-351, cli/config/memorystore/store.go:43-54 \
             (PR #6008, commit 9b83d5bbf9); docker/cli#6156, gitlab-runner#38909"),
        era(v(28, 3, 2), buildkit(LoginOutput::PasswordWarningAndChangedStoreNotice, FlagValidation, EnvAuthConfig::TakesPrecedence { login_warning: true }),
            "docker/cli v28.3.2 cli/command/registry/warning.go:12-17 (commit ccd5bd8d57), login.go:114"),
        era(v(29, 0, 0), None, "29.x clients reword the non-TTY error and are not modelled"),
    ]
}

pub fn profile(version: &Version) -> Result<ClientProfile, NotModelled> {
    let table = client_table();
    let row = lookup(&table, version).ok_or_else(|| {
        NotModelled::new(format!(
            "Docker CLI {version}: older than every modelled client (1.13.1)"
        ))
    })?;
    match &row.value {
        Some(e) => Ok(ClientProfile {
            version: version.clone(),
            login: e.login.clone(),
            push_credentials: e.push_credentials.clone(),
            context_size: e.context_size,
            empty_credentials: e.empty_credentials,
            env_auth_config: e.env_auth_config,
            source: row.source,
        }),
        None => Err(NotModelled::new(format!("Docker CLI {version}: {}", row.source))),
    }
}

/// The Engine API version a CLI release asks for when it could not ping the daemon (the failed
/// ping negotiates nothing, `initializeFromClient` at docker/cli v18.09.7 cli/command/cli.go), so
/// its requests go to `/vX.YZ/…`. One row per release line; `None`: not read.
#[rustfmt::skip]
pub fn default_api_version() -> Vec<Era<Option<&'static str>>> {
    vec![
        era(v(1, 13, 1), None, "not read"),
        era(v(18, 6, 0), Some("1.38"), "docker/cli v18.06.0-ce vendor/github.com/docker/docker/api/common.go DefaultVersion"),
        era(v(18, 9, 0), Some("1.39"), "docker/cli v18.09.7 vendor/github.com/docker/docker/api/common.go DefaultVersion"),
        era(v(19, 3, 0), Some("1.40"), "docker/cli v19.03.0 vendor/github.com/docker/docker/api/common.go DefaultVersion"),
        era(v(20, 10, 0), Some("1.41"), "docker/cli v20.10.16 vendor/github.com/docker/docker/api/common.go DefaultVersion"),
        era(v(23, 0, 0), None, "not read"),
    ]
}

/// What `docker info` prints when its `GET /info` fails to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoOnConnectError {
    /// `runInfo` returns the error: one line on stderr, exit 1 (docker/cli v18.09.7
    /// cli/command/system/info.go runInfo; cmd/docker/docker.go:192-193).
    ErrorOnly,
}

#[rustfmt::skip]
pub fn info_on_connect_error() -> Vec<Era<Option<InfoOnConnectError>>> {
    vec![
        era(v(1, 13, 1), None, "not read before 18.09"),
        era(v(18, 9, 0), Some(InfoOnConnectError::ErrorOnly), "docker/cli v18.09.7 cli/command/system/info.go runInfo"),
        era(v(19, 3, 0), None, "docker/cli v19.03.0 runInfo keeps the error as a ServerErrors entry and pretty-prints the client part first: not modelled"),
    ]
}

/// The line the CLI prints when it cannot reach the daemon (moby client/request.go doRequest at
/// v18.09.7, the client the CLI vendors): a failed name lookup is wrapped as `error during
/// connect: ` + Go's `*url.Error` (`Get URL: dial tcp: lookup NAME on SERVER: no such host`,
/// net.DNSError); a refused connection becomes `Cannot connect to the Docker daemon at HOST. Is
/// the docker daemon running?` (client/errors.go ErrorConnectionFailed). `quoted_url`: Go ≥ 1.14
/// quotes the URL in `*url.Error`; the CLI is built with the same Go as the engine of its release.
pub fn connect_error(op: &str, url: &str, quoted_url: bool, cause: &ConnectFailure) -> String {
    match cause {
        ConnectFailure::NoSuchHost { name, resolver } => {
            let url = if quoted_url {
                format!("\"{url}\"")
            } else {
                url.to_string()
            };
            format!("error during connect: {op} {url}: dial tcp: lookup {name} on {resolver}: no such host")
        }
        ConnectFailure::Refused { docker_host } => {
            format!("Cannot connect to the Docker daemon at {docker_host}. Is the docker daemon running?")
        }
    }
}

/// Why the CLI's leg to a dind service listening with TLS (2376) does not come up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsLegFailure {
    /// DOCKER_TLS_VERIFY unset: the CLI speaks plain HTTP to the TLS listener, and Go's HTTP
    /// server answers `400 Bad Request` with `Client sent an HTTP request to an HTTPS server.`,
    /// which the CLI prints as a daemon error [OBS Docker CLI 20.10.24 and 28.2.2 against a
    /// dockerd 20.10.24 with --tlsverify: `docker login` (after the `-p` warning) and `docker
    /// push` print `Error response from daemon: Client sent an HTTP request to an HTTPS server.`
    /// and exit 1]. The server closes the connection right after that answer, with the rest of
    /// the request unread, so the client may read a reset first: `read tcp A->B: read:
    /// connection reset by peer` [OBS once in 8 logins of CLI 28.2.2; never in 8 of 20.10.24].
    /// regsim prints the answer, the usual outcome, and says so in the run.
    PlainHttpToTls,
    /// DOCKER_TLS_VERIFY set, but DOCKER_CERT_PATH (default `~/.docker`) holds no `ca.pem`: the
    /// client cannot be built (`unable to resolve docker endpoint: open PATH/ca.pem: no such
    /// file or directory`), before any request.
    MissingCa { ca_path: String },
}

impl TlsLegFailure {
    pub fn text(&self) -> String {
        match self {
            TlsLegFailure::PlainHttpToTls => {
                "Error response from daemon: Client sent an HTTP request to an HTTPS server.".into()
            }
            TlsLegFailure::MissingCa { ca_path } => {
                format!("unable to resolve docker endpoint: open {ca_path}: no such file or directory")
            }
        }
    }
}

/// When the CLI builds its API client, so when an unusable endpoint stops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientInit {
    /// Before the command runs: the error alone, exit 1 (no `-p` warning).
    Eager,
    /// At the command's first API call: `Failed to initialize: ERROR`, exit 1, after what the
    /// command printed before (the `-p` warning).
    Lazy,
}

#[rustfmt::skip]
pub fn client_init() -> Vec<Era<Option<ClientInit>>> {
    vec![
        era(v(1, 13, 1), None, "not read before 20.10"),
        era(v(20, 10, 0), Some(ClientInit::Eager), "[OBS] Docker CLI 20.10.24+dfsg1 (Debian): `unable to resolve docker endpoint: open …/ca.pem: no such file or directory`, exit 1, also for `docker login -p` (no warning)"),
        era(v(23, 0, 0), Some(ClientInit::Lazy), "docker/cli v23.0.0 cli/command/cli.go Client(): `Failed to initialize: %s` and os.Exit(1) (commit 3b7235edca, lazy client); [OBS] Docker CLI 28.2.2: the `-p` warning, then `Failed to initialize: unable to resolve docker endpoint: …`"),
    ]
}

/// Why the CLI reached no daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The host name is neither a service link nor known to the resolver.
    NoSuchHost { name: String, resolver: String },
    /// Something answers at that name, but nothing listens on the port.
    Refused { docker_host: String },
}

#[cfg(test)]
mod tests {
    use super::ContextSize::*;

    #[test]
    fn connect_errors_read_as_the_seed_quotes_them() {
        let cause = super::ConnectFailure::NoSuchHost {
            name: "docker".into(),
            resolver: "192.168.0.1:53".into(),
        };
        assert_eq!(
            super::connect_error("Get", "http://docker:2376/v1.39/info", false, &cause),
            "error during connect: Get http://docker:2376/v1.39/info: dial tcp: lookup docker on 192.168.0.1:53: no such host"
        );
        assert_eq!(
            super::connect_error("Get", "http://docker:2376/v1.41/info", true, &cause),
            "error during connect: Get \"http://docker:2376/v1.41/info\": dial tcp: lookup docker on 192.168.0.1:53: no such host"
        );
    }

    #[test]
    fn context_size_is_go_units_with_four_significant_digits() {
        assert_eq!(
            NoSpace.sending_line(2048),
            "Sending build context to Docker daemon  2.048kB"
        );
        assert_eq!(
            SpaceBeforeUnit.sending_line(2048),
            "Sending build context to Docker daemon 2.048 kB"
        );
        assert_eq!(
            NoSpace.sending_line(2000),
            "Sending build context to Docker daemon      2kB"
        );
        assert_eq!(
            NoSpace.sending_line(512),
            "Sending build context to Docker daemon     512B"
        );
        assert_eq!(
            NoSpace.sending_line(15_360_000),
            "Sending build context to Docker daemon  15.36MB"
        );
        assert_eq!(
            NoSpace.sending_line(123_456_789),
            "Sending build context to Docker daemon  123.5MB"
        );
    }
}
