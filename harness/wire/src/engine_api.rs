//! The Engine API between the runner (or a job's Docker CLI) and a Docker daemon: what the calls
//! carry (`X-Registry-Auth`), how they fail, what an inspect returns and what a progress stream
//! holds. Every engine, simulated or real, answers in these terms.

use crate::NotModelled;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// `types.AuthConfig` as the runner encodes it into `X-Registry-Auth`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serveraddress: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identitytoken: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registrytoken: String,
}

impl AuthConfig {
    /// The runner's `auth.EncodeConfig`: JSON with a trailing newline (Go's `json.Encoder`),
    /// base64 URL alphabet with padding; `""` for no credentials.
    pub fn encode(config: Option<&AuthConfig>) -> String {
        match config {
            None => String::new(),
            Some(c) => {
                let mut json = serde_json::to_string(c).expect("auth config serialises");
                json.push('\n');
                base64::engine::general_purpose::URL_SAFE.encode(json)
            }
        }
    }

    /// What dockerd does with the header: a value that does not decode means "no credentials".
    pub fn decode(header: &str) -> AuthConfig {
        if header.is_empty() {
            return AuthConfig::default();
        }
        base64::engine::general_purpose::URL_SAFE
            .decode(header.trim())
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .unwrap_or_default()
    }
}

/// `X-Registry-Config` on `POST /build`: every credential the CLI holds, by server (docker/cli
/// build.go `GetAllCredentials`; docker/client image_build.go encodes the map's JSON in base64's
/// URL alphabet). The classic builder picks from it for a `FROM` it must pull.
pub fn encode_registry_config(auths: &std::collections::BTreeMap<String, AuthConfig>) -> String {
    let json = serde_json::to_string(auths).expect("auth configs serialise");
    base64::engine::general_purpose::URL_SAFE.encode(json)
}

/// What dockerd reads from `X-Registry-Config` (nothing from a header that does not decode).
pub fn decode_registry_config(header: &str) -> std::collections::BTreeMap<String, AuthConfig> {
    base64::engine::general_purpose::URL_SAFE
        .decode(header.trim())
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .unwrap_or_default()
}

/// moby registry `IndexServer`: the key Docker Hub's credentials sit under (`docker login` with
/// no server stores its login there; `GetAuthConfigKey` answers it for any `docker.io` name).
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// moby registry `ResolveAuthConfig`: the entry for `host` by its exact key, else the first whose
/// key names that host once a scheme and path are stripped (`convertToHostname`).
pub fn resolve_auth_config(auths: &std::collections::BTreeMap<String, AuthConfig>, host: &str) -> AuthConfig {
    if let Some(a) = auths.get(host) {
        return a.clone();
    }
    let hostname = |key: &str| {
        let k = key
            .strip_prefix("http://")
            .or_else(|| key.strip_prefix("https://"))
            .unwrap_or(key);
        k.split('/').next().unwrap_or(k).to_string()
    };
    auths
        .iter()
        .find(|(k, _)| hostname(k) == host)
        .map(|(_, a)| a.clone())
        .unwrap_or_default()
}

/// How an Engine API call failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DaemonError {
    /// An HTTP error status with `{"message": …}`: the client prints `Error response from daemon: …`.
    Http { status: u16, message: String },
    /// An error inside the 200 progress stream: printed bare.
    Stream { message: String },
    /// The Go client refused before sending anything (e.g. `reference.ParseNormalizedNamed` in
    /// moby client/image_pull.go, v19.03 and v20.10): printed bare.
    Client { message: String },
    /// The simulated engine reached behaviour regsim does not model; the run stops instead of
    /// printing an invented sentence.
    Unmodelled(NotModelled),
}

impl DaemonError {
    /// [`DaemonError::Unmodelled`] with its reason.
    pub fn unmodelled(reason: impl Into<String>) -> Self {
        DaemonError::Unmodelled(NotModelled::new(reason))
    }
}

/// `GET /version`'s answer, the parts an observation of a real daemon records (moby
/// api/types `Version`; the daemon writes its keys in PascalCase).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(deserialize = "PascalCase"))]
pub struct EngineVersion {
    /// As the daemon's build says it (`20.10.24+dfsg1` for Debian's).
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub api_version: String,
    /// The Go release it was built with: Go's own error texts (net/http, crypto/x509) follow it.
    #[serde(default)]
    pub go_version: String,
    #[serde(default)]
    pub git_commit: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub kernel_version: String,
}

/// `ImageInspect`: what the runner reads after a pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInspect {
    pub id: String,
    pub repo_digests: Vec<String>,
}

/// One JSON message of a progress stream (`jsonmessage.JSONMessage`), as far as a non-terminal
/// CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Message {
    /// `{"status": …, "id": …}`: printed `ID: STATUS` (or `STATUS` without an ID).
    Status { id: Option<String>, status: String },
    /// `{"stream": …}`: printed as is (the builder's output carries its own newlines).
    Stream(String),
}

/// A 200 progress stream: its messages, then possibly the error that ended it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProgressStream {
    pub messages: Vec<Message>,
    pub error: Option<String>,
}

impl ProgressStream {
    pub fn status(&mut self, id: Option<&str>, status: impl Into<String>) {
        self.messages.push(Message::Status {
            id: id.map(str::to_string),
            status: status.into(),
        });
    }
    pub fn stream(&mut self, text: impl Into<String>) {
        self.messages.push(Message::Stream(text.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_registry_auth_round_trips_and_tolerates_garbage() {
        let c = AuthConfig {
            username: "gitlab-ci-token".into(),
            password: "t".into(),
            serveraddress: "r:5050".into(),
            ..Default::default()
        };
        let enc = AuthConfig::encode(Some(&c));
        assert_eq!(AuthConfig::decode(&enc), c);
        assert_eq!(AuthConfig::decode("%%%"), AuthConfig::default());
        assert_eq!(AuthConfig::encode(None), "");
    }
}
