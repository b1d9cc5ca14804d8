//! containers/image's registry client (`docker/docker_client.go` at v5.23.1), ported for what a
//! job's podman or buildah does: the `/v2/` ping (https first, http only when TLS verification is
//! off), bearer tokens per scope with the `insufficient_scope` retry, and the error values its
//! callers wrap. Every request goes over real HTTP to the scenario's mocks.

use crate::engine::distribution::{ClientError, HttpResponse, go_quote, handle_error_response_vendored};
use crate::engine::tls::{Check, connect};
use regsim_model::versions::docker::ErrorBodyParsing;
use regsim_wire::NotModelled;
use regsim_wire::challenge::{Challenge, basic_authorization, parse_challenge};
use regsim_wire::net::Network;
use regsim_wire::tls::DaemonTrust;
use std::collections::BTreeMap;

/// c/image 5.23.1 keeps its own copy of distribution v2.8.1's `handleErrorResponse`
/// (docker/distribution_error.go): `{"details":…}` bodies are mapped for 401 and 429 only.
const ERROR_BODY: ErrorBodyParsing = ErrorBodyParsing::Distribution281;

/// A failure inside the client: the text c/image's error chain prints, or a path regsim does not
/// model.
#[derive(Debug, Clone)]
pub enum Failure {
    Text(String),
    NotModelled(NotModelled),
}

impl Failure {
    pub fn wrap(self, prefix: impl std::fmt::Display) -> Failure {
        match self {
            Failure::Text(t) => Failure::Text(format!("{prefix}: {t}")),
            other => other,
        }
    }
}

impl From<NotModelled> for Failure {
    fn from(m: NotModelled) -> Self {
        Failure::NotModelled(m)
    }
}

/// One answer, as the client reads it.
pub struct Answer {
    pub status: u16,
    pub status_line: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    fn www_authenticate(&self) -> Vec<&str> {
        self.headers
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    fn challenges(&self) -> Vec<Challenge> {
        self.www_authenticate()
            .into_iter()
            .filter_map(|h| parse_challenge(h).ok())
            .collect()
    }

    /// `registryHTTPResponseToError`: the vendored `handleErrorResponse`, with a body that did
    /// not parse cut to 50 bytes as `StatusCode: N, BODY`.
    pub fn registry_error(&self) -> String {
        let http = HttpResponse {
            status: self.status,
            status_line: self.status_line.clone(),
            content_type: self.headers.get("content-type").and_then(|v| v.to_str().ok()),
            www_authenticate: self.www_authenticate(),
            body: &self.body,
        };
        match handle_error_response_vendored(&http, ERROR_BODY, true).0 {
            ClientError::UnexpectedResponse { status, body, .. } => {
                let cut = if body.len() > 50 {
                    format!("{}...", body.chars().take(50).collect::<String>())
                } else {
                    body
                };
                format!("StatusCode: {status}, {cut}")
            }
            other => other.render(true),
        }
    }

    /// `handleErrorResponse` alone (inside `ErrUnauthorizedForCredentials`).
    fn handled(&self) -> String {
        let http = HttpResponse {
            status: self.status,
            status_line: self.status_line.clone(),
            content_type: self.headers.get("content-type").and_then(|v| v.to_str().ok()),
            www_authenticate: self.www_authenticate(),
            body: &self.body,
        };
        handle_error_response_vendored(&http, ERROR_BODY, true).0.render(true)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

/// `httpResponseToError` (docker/errors.go): 200 is no error; 401 is
/// `ErrUnauthorizedForCredentials` (the one login turns into `invalid username/password`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusError {
    Unauthorized(String),
    Other(String),
}

impl StatusError {
    pub fn text(&self) -> String {
        match self {
            StatusError::Unauthorized(inner) => {
                format!("unable to retrieve auth token: invalid username/password: {inner}")
            }
            StatusError::Other(t) => t.clone(),
        }
    }
}

fn http_response_to_error(a: &Answer, context: &str) -> Option<StatusError> {
    match a.status {
        200 => None,
        429 => Some(StatusError::Other("too many requests to registry".into())),
        401 => Some(StatusError::Unauthorized(a.handled())),
        s => {
            let context = if context.is_empty() {
                String::new()
            } else {
                format!("{context}: ")
            };
            let reason = a.status_line.split_once(' ').map(|(_, r)| r).unwrap_or("");
            Some(StatusError::Other(format!(
                "{context}invalid status code from registry {s} ({reason})"
            )))
        }
    }
}

/// A token scope (`repository:NAME:ACTIONS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub remote_name: String,
    pub actions: String,
}

impl Scope {
    fn param(&self) -> String {
        format!("repository:{}:{}", self.remote_name, self.actions)
    }
}

/// Why a request could not even be sent.
#[derive(Debug, Clone)]
pub enum SendError {
    /// The token request failed: the text, and whether it was a 401 from the token endpoint.
    Token(StatusError),
    Other(Failure),
}

/// `dockerClient` for one registry (and one repository scope).
pub struct DockerClient {
    pub network: Network,
    pub trust: DaemonTrust,
    /// `host[:port]` as the image reference names it (`registry-1.docker.io` for Docker Hub).
    pub registry: String,
    pub username: String,
    pub password: String,
    pub scope: Option<Scope>,
    /// `--tls-verify=false`: skip certificate checks and allow plain HTTP after https fails.
    pub insecure: bool,
    /// Set by the ping.
    scheme: Option<&'static str>,
    challenges: Vec<Challenge>,
    /// Tokens by extra scope (`""` for the client's own scope alone); never expiring: the
    /// scenario's clock stands still during a job.
    tokens: BTreeMap<String, String>,
    ping_error: Option<Failure>,
    pinged: bool,
}

impl DockerClient {
    pub fn new(network: Network, trust: DaemonTrust, registry: String, insecure: bool) -> Self {
        DockerClient {
            network,
            trust,
            registry,
            username: String::new(),
            password: String::new(),
            scope: None,
            insecure,
            scheme: None,
            challenges: Vec::new(),
            tokens: BTreeMap::new(),
            ping_error: None,
            pinged: false,
        }
    }

    /// One request to `url`, or the text Go's client gives for a failed round trip
    /// (`Get "URL": …`).
    async fn round_trip(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, Failure> {
        let parsed = url::Url::parse(url).map_err(|e| Failure::NotModelled(NotModelled::new(format!("{url}: {e}"))))?;
        let target = crate::http::target(&self.network, &parsed);
        let Some(addr) = target.addr else {
            return Err(Failure::NotModelled(NotModelled::new(format!(
                "the job's tool reaches for {}:{}, which no server of this scenario answers; what it prints then \
                 is not modelled",
                target.host, target.port
            ))));
        };
        let go_method = match method {
            "GET" => "Get",
            "HEAD" => "Head",
            "POST" => "Post",
            "PUT" => "Put",
            "PATCH" => "Patch",
            "DELETE" => "Delete",
            other => other,
        };
        let mut all = vec![("host", target.host_header.clone()), ("user-agent", self.user_agent())];
        all.extend(headers.iter().map(|(k, v)| (*k, v.clone())));
        let sent = if parsed.scheme() == "https" {
            let check = Check {
                roots: if self.insecure {
                    None
                } else {
                    Some(self.trust.system_roots.clone())
                },
                now: self.trust.now,
            };
            let stream = match connect(addr, &target.host, &check).await {
                Ok(s) => s,
                Err(f) => {
                    let text = f.render(regsim_model::versions::docker::TlsWording {
                        // Go 1.19 (the Debian builds): no `tls: failed to verify certificate:` wrapper.
                        verify_wrapper: false,
                        expiry_detail: true,
                    });
                    return Err(match text {
                        Ok(t) => Failure::Text(format!("{go_method} {}: {t}", go_quote(url))),
                        Err(why) => Failure::NotModelled(NotModelled::new(format!(
                            "a TLS failure regsim does not word for c/image: {why}"
                        ))),
                    });
                }
            };
            crate::http::send_on(stream, method, &target.path, &all, body).await
        } else {
            let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| {
                Failure::NotModelled(NotModelled::new(format!("regsim: dialling the mock failed: {e}")))
            })?;
            crate::http::send_on(stream, method, &target.path, &all, body).await
        };
        let (status, headers, body) = sent
            .map_err(|e| Failure::NotModelled(NotModelled::new(format!("regsim: request to the mock failed: {e}"))))?;
        Ok(Answer {
            status: status.as_u16(),
            status_line: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
            headers,
            body,
        })
    }

    fn user_agent(&self) -> String {
        // c/image's defaultUserAgent: "containers/" + version.Version + " (github.com/containers/image)".
        "containers/5.23.1 (github.com/containers/image)".to_string()
    }

    /// `detectProperties`: `GET /v2/` over https, then (TLS verification off) over http;
    /// 200 and 401 are both fine, and the challenges are kept.
    async fn ping(&mut self) -> Result<(), Failure> {
        if self.pinged {
            return match &self.ping_error {
                Some(e) => Err(e.clone()),
                None => Ok(()),
            };
        }
        self.pinged = true;
        let mut result = self.ping_scheme("https").await;
        if result.is_err() && self.insecure {
            result = self.ping_scheme("http").await;
        }
        if let Err(e) = result {
            let e = match e {
                Failure::Text(t) => {
                    // The best-effort v1 ping that follows prints nothing unless /v1/_ping answers;
                    // the mocks answer it 404 (distribution has no v1), so the error stands.
                    Failure::Text(format!("pinging container registry {}: {t}", self.registry))
                }
                other => other,
            };
            self.ping_error = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }

    async fn ping_scheme(&mut self, scheme: &'static str) -> Result<(), Failure> {
        let url = format!("{scheme}://{}/v2/", self.registry);
        let a = self
            .round_trip(
                "GET",
                &url,
                &[("docker-distribution-api-version", "registry/2.0".into())],
                Vec::new(),
            )
            .await?;
        if a.status != 200 && a.status != 401 {
            let e = http_response_to_error(&a, "").map(|e| e.text()).unwrap_or_default();
            return Err(Failure::Text(e));
        }
        self.challenges = a.challenges();
        self.scheme = Some(scheme);
        Ok(())
    }

    /// `getBearerToken` for the client's scope plus `extra`.
    async fn token(&mut self, challenge: &Challenge, extra: Option<&Scope>) -> Result<String, SendError> {
        let key = extra.map(|s| s.param()).unwrap_or_default();
        if let Some(t) = self.tokens.get(&key) {
            return Ok(t.clone());
        }
        let Some(realm) = challenge.params.get("realm") else {
            return Err(SendError::Other(Failure::Text(
                "missing realm in bearer auth challenge".into(),
            )));
        };
        let mut url = url::Url::parse(realm)
            .map_err(|e| SendError::Other(Failure::NotModelled(NotModelled::new(format!("realm {realm:?}: {e}")))))?;
        {
            // Go's url.Values.Encode sorts by key; values keep their order.
            let mut params: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if !self.username.is_empty() {
                params.push(("account".into(), self.username.clone()));
            }
            if let Some(s) = challenge.params.get("service").filter(|s| !s.is_empty()) {
                params.push(("service".into(), s.clone()));
            }
            for s in self.scope.iter().chain(extra) {
                params.push(("scope".into(), s.param()));
            }
            params.sort_by(|a, b| a.0.cmp(&b.0));
            let mut q = url.query_pairs_mut();
            q.clear();
            for (k, v) in &params {
                q.append_pair(k, v);
            }
        }
        let mut headers = Vec::new();
        if !self.username.is_empty() && !self.password.is_empty() {
            headers.push(("authorization", basic_authorization(&self.username, &self.password)));
        }
        let a = self
            .round_trip("GET", url.as_str(), &headers, Vec::new())
            .await
            .map_err(SendError::Other)?;
        if let Some(e) = http_response_to_error(&a, "Requesting bearer token") {
            return Err(SendError::Token(e));
        }
        let v: serde_json::Value = serde_json::from_slice(&a.body).map_err(|e| {
            SendError::Other(Failure::NotModelled(NotModelled::new(format!(
                "a token answer that is not JSON ({e}); c/image's wording for it is not modelled"
            ))))
        })?;
        let token = v
            .get("token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .or_else(|| v.get("access_token").and_then(|t| t.as_str()))
            .unwrap_or_default()
            .to_string();
        self.tokens.insert(key, token.clone());
        Ok(token)
    }

    /// `makeRequest` with v2 auth: the ping first, the Authorization the ping's challenges ask
    /// for, and one retry with the scope an `insufficient_scope` challenge names (only for a
    /// request without a body).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
        extra: Option<&Scope>,
    ) -> Result<Answer, SendError> {
        self.ping().await.map_err(SendError::Other)?;
        let url = format!("{}://{}{path}", self.scheme.unwrap_or("https"), self.registry);
        let has_body = body.is_some();
        let a = self.request_once(method, &url, headers, body, extra).await?;
        if !has_body && a.status == 401 {
            let retry = a.challenges().into_iter().find_map(|c| {
                (c.scheme == "bearer" && c.params.get("error").map(String::as_str) == Some("insufficient_scope"))
                    .then(|| c.params.get("scope").cloned())
                    .flatten()
                    .filter(|s| !s.is_empty())
            });
            if let Some(scope) = retry {
                let parts: Vec<&str> = scope.splitn(3, ':').collect();
                if let [kind, name, actions] = parts.as_slice()
                    && *kind == "repository"
                {
                    let new = Scope {
                        remote_name: name.to_string(),
                        actions: actions.to_string(),
                    };
                    return self.request_once(method, &url, headers, None, Some(&new)).await;
                }
                return Err(SendError::Other(Failure::NotModelled(NotModelled::new(format!(
                    "an insufficient_scope challenge with scope {scope:?}, which c/image parses differently"
                )))));
            }
        }
        Ok(a)
    }

    /// A request to a URL the registry gave (an upload's Location).
    pub async fn request_to(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, SendError> {
        self.request_once(method, url, headers, Some(body), None).await
    }

    async fn request_once(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
        extra: Option<&Scope>,
    ) -> Result<Answer, SendError> {
        let mut all: Vec<(&str, String)> = vec![("docker-distribution-api-version", "registry/2.0".into())];
        all.extend(headers.iter().cloned());
        let challenges = self.challenges.clone();
        for c in &challenges {
            match c.scheme.as_str() {
                "basic" => {
                    all.push(("authorization", basic_authorization(&self.username, &self.password)));
                    break;
                }
                "bearer" => {
                    let token = self.token(c, extra).await?;
                    all.push(("authorization", format!("Bearer {token}")));
                    break;
                }
                _ => continue,
            }
        }
        self.round_trip(method, url, &all, body.unwrap_or_default())
            .await
            .map_err(SendError::Other)
    }

    /// `CheckAuth`: `GET /v2/` with the credentials; `None` when they are good.
    pub async fn check_auth(&mut self) -> Result<Option<StatusError>, Failure> {
        match self.request("GET", "/v2/", &[], None, None).await {
            Ok(a) => Ok(http_response_to_error(&a, "")),
            Err(SendError::Token(e)) => Ok(Some(e)),
            Err(SendError::Other(f)) => Err(f),
        }
    }
}

impl SendError {
    /// The text the caller wraps.
    pub fn into_failure(self) -> Failure {
        match self {
            SendError::Token(e) => Failure::Text(e.text()),
            SendError::Other(f) => f,
        }
    }
}
