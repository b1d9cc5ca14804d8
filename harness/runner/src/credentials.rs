//! Which registry credentials the runner hands to Docker for an image (gitlab-runner.md §3):
//! `$DOCKER_AUTH_CONFIG`, then the runner host's `~/.docker/config.json`, then the job payload;
//! first source with a matching entry wins; matching by host (≤ 17.4) or by path prefix (17.5 →).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use regsim_model::versions::runner::CredentialMatching;
use regsim_wire::engine_api::AuthConfig;
use regsim_wire::job_api::{CredentialKind, PayloadCredential};
use regsim_wire::reference::gitlab_runner::{
    convert_to_hostname, convert_to_registry_path_as, normalize_image_ref, split_docker_image_name,
};
use serde::Deserialize;
use std::collections::BTreeMap;

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
    /// regsim runs no credential helpers; on a runner host without the helper binary the whole
    /// source fails the same way.
    #[error("credsStore/credHelpers need a docker-credential-* helper, which the runner host does not have")]
    NeedsHelper,
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

/// docker/cli `LoadFromReader`: a config that does not parse yields an error and no entries.
fn parse_config(label: &str, text: &str) -> Result<Source, ConfigError> {
    let cfg: ConfigFile = serde_json::from_str(text).map_err(|e| ConfigError::NotJson(e.to_string()))?;
    if cfg.creds_store.is_some() || cfg.cred_helpers.as_ref().is_some_and(|h| !h.is_empty()) {
        return Err(ConfigError::NeedsHelper);
    }
    let mut entries = Vec::new();
    for (key, e) in cfg.auths {
        let (username, password) = if e.auth.is_empty() {
            (e.username, e.password)
        } else {
            decode_auth(&e.auth)?
        };
        entries.push((
            key.clone(),
            AuthConfig {
                username,
                password,
                email: e.email,
                identitytoken: e.identitytoken,
                registrytoken: e.registrytoken,
                serveraddress: key,
                ..Default::default()
            },
        ));
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
}

pub fn resolve(image: &str, inputs: &Inputs<'_>, matching: CredentialMatching) -> (Option<Resolved>, Vec<Ignored>) {
    let mut sources = Vec::new();
    let mut ignored = Vec::new();
    if let Some(text) = inputs.docker_auth_config {
        match parse_config(SOURCE_VARIABLE, text) {
            Ok(s) => sources.push(s),
            Err(why) => ignored.push(Ignored {
                source: SOURCE_VARIABLE.into(),
                why: why.to_string(),
            }),
        }
    }
    if let Some((path, text)) = inputs.host_config {
        match parse_config(path, text) {
            Ok(s) => sources.push(s),
            Err(why) => ignored.push(Ignored {
                source: path.into(),
                why: why.to_string(),
            }),
        }
    }
    let payload: Vec<(String, AuthConfig)> = inputs
        .payload
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
        .collect();
    sources.push(Source {
        label: SOURCE_JOB_PAYLOAD.into(),
        entries: payload,
    });

    let found = match matching {
        CredentialMatching::HostLowercased => {
            let host = split_docker_image_name(image);
            sources.iter().find_map(|s| {
                s.entries
                    .iter()
                    .find(|(k, _)| convert_to_hostname(k) == host)
                    .map(|(_, c)| Resolved {
                        source: s.label.clone(),
                        config: c.clone(),
                    })
            })
        }
        CredentialMatching::PathPrefix | CredentialMatching::PathPrefixHttpsOnly => {
            let strips_http = matching == CredentialMatching::PathPrefix;
            let path = normalize_image_ref(image);
            // Merged map, first entry per key (earlier sources win); then the longest prefix.
            let mut merged: Vec<(String, &str, &AuthConfig)> = Vec::new();
            for s in &sources {
                for (k, c) in &s.entries {
                    let key = convert_to_registry_path_as(k, strips_http);
                    if !merged.iter().any(|(m, _, _)| *m == key) {
                        merged.push((key, &s.label, c));
                    }
                }
            }
            let mut candidate = path.as_str();
            loop {
                if let Some((_, label, c)) = merged.iter().find(|(k, _, _)| k == candidate) {
                    break Some(Resolved {
                        source: label.to_string(),
                        config: (*c).clone(),
                    });
                }
                match candidate.rfind('/') {
                    Some(i) => candidate = &candidate[..i],
                    None => break None,
                }
            }
        }
    };
    (found, ignored)
}

/// The DOCKER_AUTH_CONFIG the runner's release actually reads from the job's variables: a File
/// variable is dropped where that release reads it as the file's path (versions/runner.rs
/// `file_auth_config`), silently, as the runner does.
pub fn docker_auth_config(
    payload: &regsim_wire::job_api::JobPayload,
    release: &regsim_model::versions::runner::RunnerRelease,
) -> Option<String> {
    use regsim_model::versions::runner::FileAuthConfig;
    let v = payload.variable_entry("DOCKER_AUTH_CONFIG")?;
    if v.file && release.file_auth_config == FileAuthConfig::DroppedSilently {
        return None;
    }
    Some(v.value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use CredentialMatching::*;

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
        };
        let (r, _) = resolve("r.example.com:5000/a/b:1", &inputs, HostLowercased);
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
        };
        for m in [HostLowercased, PathPrefix] {
            assert_eq!(
                resolve("r.example.com:5000/a/b:1", &inputs, m).0.unwrap().source,
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
        };
        let (r, ignored) = resolve("r.example.com/a/b", &inputs, HostLowercased);
        assert_eq!(r.unwrap().source, SOURCE_JOB_PAYLOAD);
        assert_eq!(ignored[0].source, "$DOCKER_AUTH_CONFIG");
        let bad64 = r#"{"auths":{"r.example.com":{"auth":"not base64!"}}}"#;
        let inputs = Inputs {
            docker_auth_config: Some(bad64),
            host_config: None,
            payload: &p,
        };
        assert_eq!(
            resolve("r.example.com/a/b", &inputs, HostLowercased).0.unwrap().source,
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
        };
        assert_eq!(
            resolve("r.example.com/grp/img:1", &inputs, PathPrefix)
                .0
                .unwrap()
                .config
                .username,
            "c"
        );
        assert_eq!(
            resolve("r.example.com/other/img", &inputs, PathPrefix)
                .0
                .unwrap()
                .config
                .username,
            "a"
        );
        assert_eq!(
            resolve("r.example.com/grp/img:1", &inputs, HostLowercased)
                .0
                .unwrap()
                .config
                .username,
            "a"
        );
    }
}
