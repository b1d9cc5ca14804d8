//! Which registry credentials the runner hands to Docker for an image (gitlab-runner.md §3):
//! `$DOCKER_AUTH_CONFIG`, then the runner host's `~/.docker/config.json`, then the job payload;
//! first source with a matching entry wins; matching by host (≤ 17.4) or by path prefix (17.5 →).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
pub mod helper;

use helper::HelperPath;
use regsim_model::versions::runner::{CredentialMatching, CredentialOrder, HelperHandling, RunnerRelease};
use regsim_wire::NotModelled;
use regsim_wire::engine_api::AuthConfig;
use regsim_wire::job_api::{CredentialKind, PayloadCredential};
use regsim_wire::reference::gitlab_runner::{
    convert_to_hostname, convert_to_registry_path_as, normalize_image_ref, split_docker_image_name,
};
use serde::Deserialize;
use std::collections::BTreeMap;
#[cfg(test)]
use std::path::PathBuf;

pub const SOURCE_VARIABLE: &str = "$DOCKER_AUTH_CONFIG";
pub const SOURCE_JOB_PAYLOAD: &str = "job payload (GitLab Registry)";

/// A matched entry: where it came from (the label printed in `Authenticating with credentials
/// from …`) and what is sent to Docker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub source: String,
    pub config: AuthConfig,
}

/// Why a source gave nothing (for the report; the runner itself is silent before 18.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub source: String,
    pub why: String,
}

/// One source's entries, keyed as written.
struct Source {
    label: String,
    entries: Vec<(String, AuthConfig)>,
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, Entry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
struct Entry {
    #[serde(default)]
    auth: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    identitytoken: String,
    #[serde(default)]
    registrytoken: String,
}

/// Go's `base64.StdEncoding`: padding required, trailing bits tolerated, `\r` and `\n` skipped.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Why a credential source gives nothing (the report says so; the runner is silent before 18.11).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// docker/cli `decodeAuth` on an `auth` that is not base64.
    #[error("illegal base64 data: {0}")]
    IllegalBase64(String),
    /// docker/cli `decodeAuth` on a decoded `auth` without `user:`.
    #[error("Invalid auth configuration file")]
    InvalidAuth,
    /// A `credsStore` or `credHelpers` program that is missing or fails: the whole source goes.
    #[error(transparent)]
    Helper(#[from] helper::HelperError),
}

impl ConfigError {
    /// The error as the runner's Go code prints it, where regsim knows Go's words (the helper
    /// client's format, docker/cli's own message); `None` for Go's JSON and base64 decoder texts.
    pub fn go_text(&self) -> Option<String> {
        match self {
            ConfigError::InvalidAuth | ConfigError::Helper(_) => Some(self.to_string()),
            ConfigError::NotJson(_) | ConfigError::IllegalBase64(_) => None,
        }
    }
}

/// docker/cli `decodeAuth`.
fn decode_auth(auth: &str) -> Result<(String, String), ConfigError> {
    let cleaned: String = auth.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let raw = GO_STD
        .decode(cleaned.as_bytes())
        .map_err(|e| ConfigError::IllegalBase64(e.to_string()))?;
    let s = String::from_utf8_lossy(&raw).into_owned();
    match s.split_once(':') {
        Some((u, p)) if !u.is_empty() => Ok((u.to_string(), p.trim_matches('\0').to_string())),
        _ => Err(ConfigError::InvalidAuth),
    }
}

/// The logins a Docker CLI finds in `config.json` (`auths` with `auth` or username/password), for
/// a CLI that uses the file itself (a shell runner's user). A credential store or helpers are
/// not simulated for the CLI.
pub fn cli_logins(text: &str) -> Result<BTreeMap<String, (String, String)>, NotModelled> {
    let cfg: ConfigFile = serde_json::from_str(text).map_err(|e| {
        NotModelled::new(format!(
            "the host's config.json is not valid JSON ({e}): what the CLI does then is not simulated"
        ))
    })?;
    if cfg.creds_store.is_some() || cfg.cred_helpers.as_ref().is_some_and(|h| !h.is_empty()) {
        return Err(NotModelled::new(
            "the host's config.json names a credential store or helpers: the job's Docker CLI using them is not simulated",
        ));
    }
    let mut out = BTreeMap::new();
    for (key, e) in cfg.auths {
        let pair = if e.auth.is_empty() {
            (e.username, e.password)
        } else {
            decode_auth(&e.auth).map_err(|e| NotModelled::new(format!("the host's config.json: {e}")))?
        };
        out.insert(key, pair);
    }
    Ok(out)
}

/// The runner's `readConfigsFromReader`: docker/cli's `LoadFromReader` (a config that does not
/// parse yields an error and no entries), then `credsStore` (`list`, then `get` for each) over the
/// `auths`, then each `credHelpers` entry (`get`); a helper that fails drops the whole source.
fn parse_config(
    label: &str,
    text: &str,
    helpers: &dyn HelperPath,
    handling: HelperHandling,
) -> Result<Source, ConfigError> {
    let cfg: ConfigFile = serde_json::from_str(text).map_err(|e| ConfigError::NotJson(e.to_string()))?;
    let mut entries: Vec<(String, AuthConfig)> = Vec::new();
    let put = |entries: &mut Vec<(String, AuthConfig)>, key: String, c: AuthConfig| {
        entries.retain(|(k, _)| *k != key);
        entries.push((key, c));
    };
    for (key, e) in cfg.auths {
        let (username, password) = if e.auth.is_empty() {
            (e.username, e.password)
        } else {
            decode_auth(&e.auth)?
        };
        let c = AuthConfig {
            username,
            password,
            email: e.email,
            identitytoken: e.identitytoken,
            registrytoken: e.registrytoken,
            serveraddress: key.clone(),
            ..Default::default()
        };
        put(&mut entries, key, c);
    }
    let from_helper = |key: &str, got: Option<helper::Credentials>| -> Option<AuthConfig> {
        match got {
            // docker/cli nativeStore: the identity-token user name carries a token, not a password.
            Some(c) if c.username == "<token>" => Some(AuthConfig {
                identitytoken: c.secret,
                serveraddress: c.server_url,
                ..Default::default()
            }),
            Some(c) => Some(AuthConfig {
                username: c.username,
                password: c.secret,
                serveraddress: c.server_url,
                ..Default::default()
            }),
            // Not found: empty credentials under the config's key, which match the image while
            // entries are keyed by the map key (≤ 18.2); from 18.3 the empty ServerAddress is
            // the key, and the entry matches nothing.
            None if handling.not_found_matches => Some(AuthConfig {
                serveraddress: key.to_string(),
                ..Default::default()
            }),
            None => None,
        }
    };
    if let Some(store) = cfg.creds_store.as_deref().filter(|s| !s.is_empty()) {
        for server in helper::list(helpers, store)?.into_keys() {
            let got = helper::get(helpers, store, &server)?;
            if let Some(c) = from_helper(&server, got) {
                put(&mut entries, server, c);
            }
        }
    }
    if handling.cred_helpers_run {
        for (server, name) in cfg.cred_helpers.unwrap_or_default() {
            let got = helper::get(helpers, &name, &server)?;
            if let Some(c) = from_helper(&server, got) {
                put(&mut entries, server, c);
            }
        }
    }
    Ok(Source {
        label: label.to_string(),
        entries,
    })
}

/// Everything the runner consults, in order.
pub struct Inputs<'a> {
    pub docker_auth_config: Option<&'a str>,
    /// `(path, text)` of the runner host's config.json.
    pub host_config: Option<(&'a str, &'a str)>,
    pub payload: &'a [PayloadCredential],
    /// Where `docker-credential-*` programs are found on the runner host.
    pub helpers: &'a dyn HelperPath,
}

/// What resolution gave for one image.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub found: Option<Resolved>,
    /// Sources skipped without a line in the job log.
    pub ignored: Vec<Ignored>,
    /// Lines the runner writes while resolving (`WARNING: Failed to resolve credentials …`, 18.11 →).
    pub warnings: Vec<String>,
    /// The outcome depends on something regsim cannot tell (Go's random map order, an error text
    /// regsim does not have in Go's words).
    pub not_modelled: Option<NotModelled>,
}

pub fn resolve(image: &str, inputs: &Inputs<'_>, release: &RunnerRelease) -> Resolution {
    let mut out = Resolution::default();
    let mut sources = Vec::new();
    let handling = release.helpers;
    let configs = [
        inputs.docker_auth_config.map(|t| (SOURCE_VARIABLE, t)),
        inputs.host_config,
    ];
    for (label, text) in configs.into_iter().flatten() {
        match parse_config(label, text, inputs.helpers, handling) {
            Ok(s) => sources.push(s),
            // 18.11 → warns for the variable's source only (the home directory's stays silent).
            Err(why) if handling.warns_on_variable_error && label == SOURCE_VARIABLE => match why.go_text() {
                Some(text) => out.warnings.push(format!(
                    "Failed to resolve credentials from {label}: {text}. Credentials from this source will not be used."
                )),
                None => {
                    out.not_modelled = Some(NotModelled::new(format!(
                        "gitlab-runner {} warns `Failed to resolve credentials from {label}: …` with Go's own error text, \
                         which regsim does not have for this error ({why})",
                        release.version
                    )))
                }
            },
            Err(why) => out.ignored.push(Ignored {
                source: label.into(),
                why: why.to_string(),
            }),
        }
    }
    sources.push(Source {
        label: SOURCE_JOB_PAYLOAD.into(),
        entries: payload_entries(inputs.payload),
    });

    let candidates = candidates(image, &sources, release.credential_matching, release.credential_order);
    let mut distinct: Vec<&(String, &str, &AuthConfig)> = Vec::new();
    for c in &candidates {
        if !distinct.iter().any(|d| d.1 == c.1 && same_credentials(d.2, c.2)) {
            distinct.push(c);
        }
    }
    match distinct.as_slice() {
        [] => {}
        [one] => {
            out.found = Some(Resolved {
                source: one.1.to_string(),
                config: one.2.clone(),
            })
        }
        several => {
            let keys: Vec<String> = several
                .iter()
                .map(|(k, label, _)| format!("`{k}` from {label}"))
                .collect();
            out.not_modelled = Some(NotModelled::new(format!(
                "gitlab-runner {} picks among {} for {image} in Go's random map order, so which credentials the job \
                 uses changes from run to run ({}); give each registry one entry",
                release.version,
                keys.join(" and "),
                order_source(release)
            )));
        }
    }
    out
}

fn order_source(release: &RunnerRelease) -> &'static str {
    regsim_model::versions::lookup(&regsim_model::versions::runner::credential_order(), &release.version)
        .map(|e| e.source)
        .unwrap_or("runner-executors-credentials.md §2.2")
}

/// The same credentials sent to Docker (the key they were found under aside).
fn same_credentials(a: &AuthConfig, b: &AuthConfig) -> bool {
    (&a.username, &a.password, &a.identitytoken, &a.registrytoken)
        == (&b.username, &b.password, &b.identitytoken, &b.registrytoken)
}

/// The entries the release might use for `image`: `(key, source, credentials)`. One when the
/// choice is determined; several when Go's map order decides among them.
fn candidates<'s>(
    image: &str,
    sources: &'s [Source],
    matching: CredentialMatching,
    order: CredentialOrder,
) -> Vec<(String, &'s str, &'s AuthConfig)> {
    // Each entry's lookup key: the host (≤ 17.4) or the registry path (17.5 →).
    let key_of = |k: &str| -> String {
        match matching {
            CredentialMatching::HostLowercased => convert_to_hostname(k),
            CredentialMatching::PathPrefix => convert_to_registry_path_as(k, true),
            CredentialMatching::PathPrefixHttpsOnly => convert_to_registry_path_as(k, false),
        }
    };
    // The lookup keys an image tries, most specific first.
    let wanted: Vec<String> = match matching {
        CredentialMatching::HostLowercased => vec![split_docker_image_name(image)],
        _ => {
            let path = normalize_image_ref(image);
            let mut v = vec![path.clone()];
            let mut p = path.as_str();
            while let Some(i) = p.rfind('/') {
                p = &p[..i];
                v.push(p.to_string());
            }
            v
        }
    };
    let in_source = |s: &'s Source, want: &str| -> Vec<(String, &'s str, &'s AuthConfig)> {
        s.entries
            .iter()
            .filter(|(k, _)| key_of(k) == want)
            .map(|(k, c)| (k.clone(), s.label.as_str(), c))
            .collect()
    };
    for want in &wanted {
        match order {
            // One map over every source, keyed by the raw key (first source wins for an
            // identical key), walked in random order: every matching entry competes.
            CredentialOrder::RandomAcrossSources => {
                let mut all: Vec<(String, &str, &AuthConfig)> = Vec::new();
                for s in sources {
                    for e in in_source(s, want) {
                        if !all.iter().any(|(k, _, _)| *k == e.0) {
                            all.push(e);
                        }
                    }
                }
                if !all.is_empty() {
                    return all;
                }
            }
            // The first source with a match; inside it, map order.
            CredentialOrder::RandomWithinSource => {
                if let Some(found) = sources.iter().map(|s| in_source(s, want)).find(|v| !v.is_empty()) {
                    return found;
                }
            }
            // The first source with a match; inside it, the smallest key.
            CredentialOrder::SortedWithinSource => {
                if let Some(mut found) = sources.iter().map(|s| in_source(s, want)).find(|v| !v.is_empty()) {
                    found.sort_by(|a, b| a.0.cmp(&b.0));
                    found.truncate(1);
                    return found;
                }
            }
        }
    }
    Vec::new()
}

/// `auth.ResolveConfigs` as the kubernetes executor calls it for the job's pull secret
/// (v16.2.0 `executors/kubernetes/kubernetes.go:1421-1440`, `helpers/docker/auth/auth.go:70-105`):
/// every entry of the three sources under its lookup key (the host ≤ 17.4, the registry path
/// 17.5 →), the first source to name a key keeping it; sources that do not parse give nothing.
/// Keyed and sorted as `json.Marshal` writes the map. `Err` when two entries of one source meet
/// under one key with different credentials (Go's map order decides).
pub fn resolve_configs(
    inputs: &Inputs<'_>,
    release: &RunnerRelease,
) -> Result<(BTreeMap<String, AuthConfig>, Vec<Ignored>), NotModelled> {
    let mut ignored = Vec::new();
    let mut sources = Vec::new();
    let configs = [
        inputs.docker_auth_config.map(|t| (SOURCE_VARIABLE, t)),
        inputs.host_config,
    ];
    for (label, text) in configs.into_iter().flatten() {
        match parse_config(label, text, inputs.helpers, release.helpers) {
            Ok(s) => sources.push(s),
            Err(why) => ignored.push(Ignored {
                source: label.into(),
                why: why.to_string(),
            }),
        }
    }
    sources.push(Source {
        label: SOURCE_JOB_PAYLOAD.into(),
        entries: payload_entries(inputs.payload),
    });
    let key_of = |k: &str| -> String {
        match release.credential_matching {
            CredentialMatching::HostLowercased => convert_to_hostname(k),
            CredentialMatching::PathPrefix => convert_to_registry_path_as(k, true),
            CredentialMatching::PathPrefixHttpsOnly => convert_to_registry_path_as(k, false),
        }
    };
    let mut out: BTreeMap<String, AuthConfig> = BTreeMap::new();
    for source in &sources {
        let mut mine: BTreeMap<String, &AuthConfig> = BTreeMap::new();
        for (raw, config) in &source.entries {
            let key = key_of(raw);
            if let Some(other) = mine.get(&key)
                && !same_credentials(other, config)
            {
                return Err(NotModelled::new(format!(
                    "gitlab-runner {}: two entries of {} meet under `{key}` in the job's pull secret, and Go's map order \
                     picks one",
                    release.version, source.label
                )));
            }
            mine.insert(key, config);
        }
        for (key, config) in mine {
            out.entry(key).or_insert_with(|| config.clone());
        }
    }
    Ok((out, ignored))
}

/// The job payload's registry credentials as config entries.
fn payload_entries(payload: &[PayloadCredential]) -> Vec<(String, AuthConfig)> {
    payload
        .iter()
        .filter(|c| c.kind == CredentialKind::Registry)
        .map(|c| {
            (
                c.url.clone(),
                AuthConfig {
                    username: c.username.clone(),
                    password: c.password.clone(),
                    serveraddress: c.url.clone(),
                    ..Default::default()
                },
            )
        })
        .collect()
}

/// The DOCKER_AUTH_CONFIG the runner's release actually reads: the job's variable (a File
/// variable is dropped where that release reads it as the file's path, versions/runner.rs
/// `file_auth_config`, silently, as the runner does), else `[[runners]] environment`'s — the
/// runner puts its environment before the job's variables and looks names up from the end
/// (gitlab-runner.md §3.1).
pub fn docker_auth_config(
    payload: &regsim_wire::job_api::JobPayload,
    runner: &regsim_model::world::RunnerHost,
) -> Option<String> {
    use regsim_model::versions::runner::{FileAuthConfig, VariableExpansion};
    let lookup = |k: &str| {
        payload
            .variable(k)
            .or_else(|| runner.environment_variable(k).map(str::to_string))
    };
    let Some(v) = payload.variable_entry("DOCKER_AUTH_CONFIG") else {
        // config.toml's environment is part of GetAllVariables too, and expanded with it.
        return runner
            .environment_variable("DOCKER_AUTH_CONFIG")
            .map(|v| crate::expand::expand(v, lookup));
    };
    if v.file && runner.release.file_auth_config == FileAuthConfig::DroppedSilently {
        return None;
    }
    // `$NAME` in the value is expanded like any variable's, unless it is raw and the release
    // honours that (a Harbor robot's `robot$name` written as plain text loses `$name`).
    let raw = v.raw && runner.release.variable_expansion == VariableExpansion::UnlessRaw;
    Some(if raw {
        v.value.clone()
    } else {
        crate::expand::expand(&v.value, lookup)
    })
}

/// The runner's resolution for one image of `world`'s job, its helpers installed for the call
/// (for callers outside a job: `serve`'s login hint, the conformance clients).
pub fn resolve_for_job(
    world: &regsim_model::world::World,
    payload: &regsim_wire::job_api::JobPayload,
    image: &str,
) -> Resolution {
    let auth_config = docker_auth_config(payload, &world.runner);
    let host_path = format!("{}/.docker/config.json", world.runner.home.trim_end_matches('/'));
    let installed = match helper::Installed::install(&world.runner.credential_helpers) {
        Ok(i) => i,
        Err(e) => {
            return Resolution {
                not_modelled: Some(NotModelled::new(format!(
                    "the runner host's credential helpers could not be installed: {e}"
                ))),
                ..Default::default()
            };
        }
    };
    let inputs = Inputs {
        docker_auth_config: auth_config.as_deref(),
        host_config: world.runner.docker_config.as_deref().map(|c| (host_path.as_str(), c)),
        payload: &payload.credentials,
        helpers: &installed,
    };
    resolve(image, &inputs, &world.runner.release)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CredentialMatching::*;
    use regsim_model::versions::v;

    /// A release of the era whose matching is `m` (16.2: host; 18.1: path prefix).
    fn res(image: &str, inputs: &Inputs<'_>, m: CredentialMatching) -> (Option<Resolved>, Vec<Ignored>) {
        let version = match m {
            HostLowercased => v(16, 2, 0),
            PathPrefixHttpsOnly => v(17, 5, 0),
            PathPrefix => v(18, 3, 0),
        };
        let release = regsim_model::versions::runner::release(&version).unwrap();
        let r = resolve(image, inputs, &release);
        (r.found, r.ignored)
    }

    fn no_helpers() -> PathBuf {
        PathBuf::from("/nonexistent-regsim-helpers")
    }

    fn payload(url: &str) -> Vec<PayloadCredential> {
        vec![PayloadCredential {
            kind: CredentialKind::Registry,
            url: url.into(),
            username: "gitlab-ci-token".into(),
            password: "jt".into(),
        }]
    }

    #[test]
    fn variable_beats_payload_and_needs_the_port() {
        let cfg =
            r#"{"auths":{"r.example.com:5000":{"auth":"Y2lfcHVsbF9jb250YWluZXJzOm15X3Byb2plY3RfYWNjZXNzX3Rva2Vu"}}}"#;
        let p = payload("r.example.com:5000");
        let inputs = Inputs {
            docker_auth_config: Some(cfg),
            host_config: None,
            payload: &p,
            helpers: &no_helpers(),
        };
        let (r, _) = res("r.example.com:5000/a/b:1", &inputs, HostLowercased);
        let r = r.unwrap();
        assert_eq!(r.source, "$DOCKER_AUTH_CONFIG");
        assert_eq!(
            (r.config.username.as_str(), r.config.password.as_str()),
            ("ci_pull_containers", "my_project_access_token")
        );
        // An auths key without the port does not match an image with one: the payload wins.
        let noport =
            r#"{"auths":{"r.example.com":{"auth":"Y2lfcHVsbF9jb250YWluZXJzOm15X3Byb2plY3RfYWNjZXNzX3Rva2Vu"}}}"#;
        let inputs = Inputs {
            docker_auth_config: Some(noport),
            host_config: None,
            payload: &p,
            helpers: &no_helpers(),
        };
        for m in [HostLowercased, PathPrefix] {
            assert_eq!(
                res("r.example.com:5000/a/b:1", &inputs, m).0.unwrap().source,
                SOURCE_JOB_PAYLOAD
            );
        }
    }

    #[test]
    fn unparsable_config_is_ignored_silently() {
        let p = payload("r.example.com");
        let inputs = Inputs {
            docker_auth_config: Some("{\"auths\": {"),
            host_config: None,
            payload: &p,
            helpers: &no_helpers(),
        };
        let (r, ignored) = res("r.example.com/a/b", &inputs, HostLowercased);
        assert_eq!(r.unwrap().source, SOURCE_JOB_PAYLOAD);
        assert_eq!(ignored[0].source, "$DOCKER_AUTH_CONFIG");
        let bad64 = r#"{"auths":{"r.example.com":{"auth":"not base64!"}}}"#;
        let inputs = Inputs {
            docker_auth_config: Some(bad64),
            host_config: None,
            payload: &p,
            helpers: &no_helpers(),
        };
        assert_eq!(
            res("r.example.com/a/b", &inputs, HostLowercased).0.unwrap().source,
            SOURCE_JOB_PAYLOAD
        );
    }

    #[test]
    fn echo_newline_stays_in_the_password() {
        // `echo name:token | base64` encodes the newline; docker/cli keeps it.
        assert_eq!(
            decode_auth("bmFtZTp0b2tlbgo=").unwrap(),
            ("name".into(), "token\n".into())
        );
        // A line break inside the base64 text itself is skipped by Go's decoder.
        assert_eq!(
            decode_auth("bmFtZTp0\nb2tlbg==").unwrap(),
            ("name".into(), "token".into())
        );
    }

    #[test]
    fn path_prefix_prefers_the_most_specific_entry() {
        let cfg = r#"{"auths":{"r.example.com":{"auth":"YTpi"},"r.example.com/grp":{"auth":"Yzpk"}}}"#;
        let inputs = Inputs {
            docker_auth_config: Some(cfg),
            host_config: None,
            payload: &[],
            helpers: &no_helpers(),
        };
        assert_eq!(
            res("r.example.com/grp/img:1", &inputs, PathPrefix)
                .0
                .unwrap()
                .config
                .username,
            "c"
        );
        assert_eq!(
            res("r.example.com/other/img", &inputs, PathPrefix)
                .0
                .unwrap()
                .config
                .username,
            "a"
        );
        // Host matching: both keys name r.example.com in one source, and Go's map order picks
        // (13.4 – 17.4): regsim refuses to choose.
        assert_eq!(res("r.example.com/grp/img:1", &inputs, HostLowercased).0, None);
        let release = regsim_model::versions::runner::release(&v(16, 2, 0)).unwrap();
        let m = resolve("r.example.com/grp/img:1", &inputs, &release)
            .not_modelled
            .unwrap();
        assert!(m.reason.contains("random map order"), "{}", m.reason);
    }
}
