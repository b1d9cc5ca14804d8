//! containerd as the kubelet's runtime: CRI `PullImage` through containerd's docker resolver
//! (containerd v1.6.20 `pkg/cri/server/image_pull.go`, `remotes/docker/resolver.go`,
//! `authorizer.go`, `auth/fetch.go`), over real HTTP to the mocks, with the texts of the release's
//! row in `regsim_model::versions::containerd`. [`cri`] holds the real CRI client the simulation
//! is checked against.
//!
//! Modelled: plain HTTP to localhost registries (containerd's CRI default for them), HTTPS to
//! others with a certificate the node's system store vouches for (a failed handshake is not
//! modelled: its texts are containerd's, not read), tags and digests, Bearer and Basic challenges, the token POST with credentials and its GET fallback,
//! manifest lists narrowed to linux/amd64, schema 2 and OCI manifests. A fetch that fails after
//! the reference resolved, TLS and unpacking problems stop with "not modelled".

pub mod cri;

pub use cri::{CriAuth, GrpcCode, GrpcStatus};

use crate::engine::distribution::go_quote;
use base64::Engine as _;
use regsim_model::versions::containerd::ContainerdProfile;
use regsim_wire::NotModelled;
use regsim_wire::challenge::parse_challenge;
use regsim_wire::net::Network;
use regsim_wire::reference::Reference;

/// The Accept header of every registry request (resolver.go `NewResolver`).
const MANIFEST_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, */*";

/// `ErrInvalidAuthorization` (resolver.go:46).
const INVALID_AUTHORIZATION: &str = "authorization failed";

pub struct SimulatedContainerd {
    profile: ContainerdProfile,
    network: Network,
    http: reqwest::Client,
    /// The node's system store and clock, for registries it reaches over TLS.
    roots: Option<(Vec<Vec<u8>>, i64)>,
    /// The node's platform: the CRI plugin pulls for it (platforms.Default()).
    platform: regsim_wire::platform::Platform,
}

/// `docker.IsLocalhost` (containerd remotes/docker/resolver.go): `localhost` or a loopback IP,
/// which containerd's CRI reaches over plain HTTP by default; every other host over HTTPS.
fn scheme_for(host: &str) -> &'static str {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let local = name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if local { "http" } else { "https" }
}

/// A response as the resolver keeps it for its retry decisions.
struct Seen {
    method: &'static str,
    url: String,
    status: u16,
    status_line: String,
    challenges: Vec<regsim_wire::challenge::Challenge>,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    /// A response with its challenges parsed, as the resolver keeps it.
    fn new(
        method: &'static str,
        url: &str,
        status: reqwest::StatusCode,
        headers: reqwest::header::HeaderMap,
        body: Vec<u8>,
    ) -> Seen {
        let challenges = headers
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|h| parse_challenge(h).ok())
            .collect();
        Seen {
            method,
            url: url.to_string(),
            status: status.as_u16(),
            status_line: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
            challenges,
            headers,
            body,
        }
    }
}

/// The authorizer's handler for the registry's host.
#[derive(Clone)]
enum Handler {
    Basic {
        username: String,
        secret: String,
    },
    Bearer {
        realm: String,
        service: String,
        scopes: Vec<String>,
        username: String,
        secret: String,
        /// The token once fetched (`scopedTokens`): a refusal is remembered too.
        token: Option<Result<String, String>>,
    },
}

/// Why a pull stopped: containerd's error text (gRPC NotFound when `not_found`), or a path regsim
/// does not model.
enum Stop {
    Error { text: String, not_found: bool },
    NotModelled(String),
}

impl SimulatedContainerd {
    pub fn new(profile: ContainerdProfile, network: Network) -> Self {
        SimulatedContainerd {
            profile,
            network,
            http: crate::http::shared(),
            roots: None,
            platform: Default::default(),
        }
    }

    /// A node of another platform than linux/amd64.
    pub fn with_platform(mut self, platform: regsim_wire::platform::Platform) -> Self {
        self.platform = platform;
        self
    }

    /// The node trusts `roots` (DER) at Unix time `now` for registries it reaches over TLS.
    pub fn with_roots(mut self, roots: Vec<Vec<u8>>, now: i64) -> Self {
        self.roots = Some((roots, now));
        self
    }

    /// CRI `PullImage`: the image id on success, the gRPC status otherwise (`Err` when the outcome
    /// needs behaviour regsim does not model).
    pub async fn pull_image(
        &self,
        image: &str,
        auth: Option<&CriAuth>,
    ) -> Result<Result<String, GrpcStatus>, NotModelled> {
        // image_pull.go:95: the reference as distribution's parser reads it.
        let reference = match Reference::parse(image) {
            Ok(r) => r,
            Err(e) => {
                return Ok(Err(GrpcStatus {
                    code: GrpcCode::Unknown,
                    message: format!("failed to parse image reference {}: {e}", go_quote(image)),
                }));
            }
        };
        let normalized = normalized(&reference);
        let host = reference.registry_host();
        let (username, secret) = match parse_auth(auth, &host) {
            Ok(c) => c,
            Err(e) => {
                return Ok(Err(GrpcStatus {
                    code: GrpcCode::Unknown,
                    message: format!("failed to pull and unpack image {}: {e}", go_quote(&normalized)),
                }));
            }
        };
        match self.pull(&reference, &normalized, &host, &username, &secret).await {
            Ok(id) => Ok(Ok(id)),
            Err(Stop::NotModelled(why)) => Err(NotModelled::new(format!("containerd {}: {why}", self.profile.version))),
            // image_pull.go:143, then errdefs.ToGRPC: not-found errors keep their code.
            Err(Stop::Error { text, not_found }) => Ok(Err(GrpcStatus {
                code: if not_found {
                    GrpcCode::NotFound
                } else {
                    GrpcCode::Unknown
                },
                message: format!("failed to pull and unpack image {}: {text}", go_quote(&normalized)),
            })),
        }
    }

    async fn pull(
        &self,
        r: &Reference,
        normalized: &str,
        host: &str,
        username: &str,
        secret: &str,
    ) -> Result<String, Stop> {
        let mut handler: Option<Handler> = None;
        let scope = format!("repository:{}:pull", r.path);
        let resolve_err = |e: String, not_found: bool| Stop::Error {
            text: format!("failed to resolve reference {}: {e}", go_quote(normalized)),
            not_found,
        };
        // Resolve: HEAD the manifest by tag (or digest), with retries and authorization.
        let object = r.api_tag();
        let url = format!("{}://{host}/v2/{}/manifests/{object}", scheme_for(host), r.path);
        let seen = match self
            .with_retries("HEAD", &url, &mut handler, &scope, username, secret)
            .await
        {
            Ok(s) => s,
            Err(e @ RequestError::Authorize(_)) => return Err(resolve_err(e.text(), false)),
            Err(RequestError::InvalidAuthorization(e)) => {
                return Err(resolve_err(
                    format!("pull access denied, repository does not exist or may require authorization: {e}"),
                    false,
                ));
            }
            Err(RequestError::Other(e)) => return Err(resolve_err(e, false)),
            Err(RequestError::NotModelled(e)) => return Err(Stop::NotModelled(e)),
        };
        if seen.status == 404 {
            if r.digest.is_some() {
                return Err(Stop::NotModelled(
                    "a digest the registry does not have as a manifest (containerd then tries the blobs path)".into(),
                ));
            }
            return Err(resolve_err(format!("{normalized}: not found"), true));
        }
        if seen.status > 399 {
            return Err(resolve_err(
                format!(
                    "pulling from host {host} failed with status code [manifests {object}]: {}",
                    seen.status_line
                ),
                false,
            ));
        }
        if seen.status > 299 {
            return Err(Stop::NotModelled(format!(
                "the manifest HEAD answered {}",
                seen.status_line
            )));
        }
        let content_type = |h: &reqwest::header::HeaderMap| {
            // getManifestMediaType: the Content-Type without parameters; text/plain is schema 1.
            let t = h
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .unwrap_or("")
                .to_string();
            if t == "text/plain" { SCHEMA1.to_string() } else { t }
        };
        let mut root_media = content_type(&seen.headers);
        let digest = match (
            seen.headers.get("docker-content-digest").and_then(|v| v.to_str().ok()),
            r.digest.as_deref(),
        ) {
            (_, Some(d)) => d.to_string(),
            (Some(d), None) => d.to_string(),
            // No digest header: GET the manifest and hash what comes (resolver.go:330-360; that
            // GET's status is not looked at).
            (None, None) => {
                let got = match self
                    .with_retries("GET", &url, &mut handler, &scope, username, secret)
                    .await
                {
                    Ok(s) => s,
                    Err(e) => return Err(resolve_err(e.text(), false)),
                };
                root_media = content_type(&got.headers);
                if root_media == SCHEMA1 || root_media == regsim_wire::media::MANIFEST_V1_SIGNED {
                    return Err(Stop::NotModelled("a schema 1 manifest (containerd converts it)".into()));
                }
                regsim_wire::digest::sha256_digest(&got.body)
            }
        };
        // Fetch (remotes/handlers.go, fetcher.go): the root by its descriptor, an index narrowed
        // to the node's platform, the config and the layers. A root that is a single manifest is
        // taken whatever its platform (images.Manifest checks the platform of children only).
        let mut f = Fetch {
            c: self,
            host,
            path: &r.path,
            handler: &mut handler,
            scope: &scope,
            username,
            secret,
        };
        let mut manifest: serde_json::Value = f.json(&digest, &root_media).await?;
        let media_of = |v: &serde_json::Value| v.get("mediaType").and_then(|t| t.as_str()).unwrap_or("").to_string();
        if matches!(
            root_media.as_str(),
            regsim_wire::media::MANIFEST_LIST_V2 | regsim_wire::media::OCI_INDEX
        ) {
            let entry = manifest
                .get("manifests")
                .and_then(|m| m.as_array())
                .and_then(|list| list.iter().find(|e| self.platform.matches_entry(e)))
                .cloned()
                // images/image.go: `no match for platform in manifest: %w` (ErrNotFound) [OBS 1.6.20].
                .ok_or_else(|| Stop::Error {
                    text: "no match for platform in manifest: not found".into(),
                    not_found: true,
                })?;
            let d = entry.get("digest").and_then(|d| d.as_str()).unwrap_or("").to_string();
            manifest = f.json(&d, &media_of(&entry)).await?;
        } else if !matches!(
            root_media.as_str(),
            regsim_wire::media::MANIFEST_V2 | regsim_wire::media::OCI_MANIFEST
        ) {
            return Err(Stop::NotModelled(format!(
                "a root descriptor of media type {root_media:?}: what containerd makes of its children is not modelled"
            )));
        }
        let config = manifest
            .get("config")
            .cloned()
            .ok_or_else(|| Stop::NotModelled("a manifest without a config (schema 1)".into()))?;
        let blobs: Vec<serde_json::Value> = std::iter::once(config.clone())
            .chain(
                manifest
                    .get("layers")
                    .and_then(|l| l.as_array())
                    .cloned()
                    .unwrap_or_default(),
            )
            .collect();
        for b in &blobs {
            let d = b.get("digest").and_then(|d| d.as_str()).unwrap_or("").to_string();
            f.bytes(&d, &media_of(b)).await?;
        }
        // The CRI answers the image id: the config's digest.
        Ok(config.get("digest").and_then(|d| d.as_str()).unwrap_or("").to_string())
    }

    /// `request.doWithRetries`: authorize, send, and retry on 401 (with the authorizer's new
    /// handler), 405 for a manifest HEAD (as GET), 408 and 429 — at most six responses.
    async fn with_retries(
        &self,
        method: &'static str,
        url: &str,
        handler: &mut Option<Handler>,
        scope: &str,
        username: &str,
        secret: &str,
    ) -> Result<Seen, RequestError> {
        self.with_retries_accept(method, url, handler, scope, username, secret, MANIFEST_ACCEPT)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn with_retries_accept(
        &self,
        method: &'static str,
        url: &str,
        handler: &mut Option<Handler>,
        scope: &str,
        username: &str,
        secret: &str,
        accept: &str,
    ) -> Result<Seen, RequestError> {
        let mut method = method;
        let mut responses: Vec<Seen> = Vec::new();
        loop {
            let authorization = match handler.as_mut() {
                None => None,
                Some(h) => Some(self.authorize(h).await.map_err(RequestError::Authorize)?),
            };
            let seen = self.send(method, url, authorization.as_deref(), accept).await?;
            let status = seen.status;
            responses.push(seen);
            if responses.len() > 5 {
                return Ok(responses.pop().expect("just pushed"));
            }
            let retry = match status {
                401 => self.add_responses(&responses, handler, scope, username, secret)?,
                405 if method == "HEAD" && url.contains("/manifests/") => {
                    method = "GET";
                    true
                }
                408 | 429 => true,
                _ => false,
            };
            if !retry {
                return Ok(responses.pop().expect("just pushed"));
            }
        }
    }

    /// `dockerAuthorizer.AddResponses`: a handler for the last response's challenge, or the
    /// `insufficient_scope` error when the same request was refused twice with `error=`.
    fn add_responses(
        &self,
        responses: &[Seen],
        handler: &mut Option<Handler>,
        scope: &str,
        username: &str,
        secret: &str,
    ) -> Result<bool, RequestError> {
        let last = responses.last().expect("one response at least");
        for c in &last.challenges {
            if c.scheme == "bearer" {
                if let Some(err) = c.params.get("error").filter(|e| !e.is_empty()) {
                    let n = responses.len();
                    let same = n > 1 && responses[n - 2].method == last.method && responses[n - 2].url == last.url;
                    if same {
                        *handler = None;
                        return Err(RequestError::InvalidAuthorization(format!(
                            "server message: {err}: {INVALID_AUTHORIZATION}"
                        )));
                    }
                }
                if matches!(handler, Some(Handler::Bearer { .. })) {
                    return Ok(true);
                }
                // GenerateTokenOptions: realm and service from the challenge, its scope joined to
                // the repository's pull scope, sorted and unique (GetTokenScopes).
                let realm = c.params.get("realm").cloned().unwrap_or_default();
                if realm.is_empty() {
                    return Err(RequestError::Other(
                        "no realm specified for token auth challenge".into(),
                    ));
                }
                let mut scopes: Vec<String> = c
                    .params
                    .get("scope")
                    .map(|s| s.split(' ').map(str::to_string).collect())
                    .unwrap_or_default();
                scopes.push(scope.to_string());
                scopes.sort();
                scopes.dedup();
                *handler = Some(Handler::Bearer {
                    realm,
                    service: c.params.get("service").cloned().unwrap_or_default(),
                    scopes,
                    username: username.to_string(),
                    secret: secret.to_string(),
                    token: None,
                });
                return Ok(true);
            } else if c.scheme == "basic" && !username.is_empty() && !secret.is_empty() {
                *handler = Some(Handler::Basic {
                    username: username.to_string(),
                    secret: secret.to_string(),
                });
                return Ok(true);
            }
        }
        // "failed to find supported auth scheme": NotImplemented, so no retry and no error.
        Ok(false)
    }

    /// `authHandler.authorize`: Basic credentials, or the (cached) bearer token.
    async fn authorize(&self, h: &mut Handler) -> Result<String, String> {
        match h {
            Handler::Basic { username, secret } => {
                let raw = format!("{username}:{secret}");
                Ok(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
            }
            Handler::Bearer {
                realm,
                service,
                scopes,
                username,
                secret,
                token,
            } => {
                if token.is_none() {
                    *token = Some(self.fetch_token(realm, service, scopes, username, secret).await);
                }
                token.clone().expect("set above").map(|t| format!("Bearer {t}"))
            }
        }
    }

    /// `doBearerAuth`: with a secret the OAuth POST first, then GET on 404, 401, 400 (and 405 with a
    /// user name); without one the anonymous GET.
    async fn fetch_token(
        &self,
        realm: &str,
        service: &str,
        scopes: &[String],
        username: &str,
        secret: &str,
    ) -> Result<String, String> {
        if secret.is_empty() {
            return self
                .token_get(realm, service, scopes, None)
                .await
                .map_err(|e| format!("failed to fetch anonymous token: {e}"));
        }
        let wrap = |e: String| format!("failed to fetch oauth token: {e}");
        // FetchTokenWithOAuth's form, as url.Values.Encode sorts it.
        let mut form: Vec<(&str, String)> = Vec::new();
        if !scopes.is_empty() {
            form.push(("scope", scopes.join(" ")));
        }
        form.push(("service", service.to_string()));
        form.push(("client_id", "containerd-client".to_string()));
        if username.is_empty() {
            form.push(("grant_type", "refresh_token".into()));
            form.push(("refresh_token", secret.to_string()));
        } else {
            form.push(("grant_type", "password".into()));
            form.push(("username", username.to_string()));
            form.push(("password", secret.to_string()));
        }
        form.sort_by_key(|(k, _)| *k);
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::engine::simulated::go_query_escape(v)))
            .collect();
        let resp = self
            .raw(
                "POST",
                realm,
                None,
                Some(("application/x-www-form-urlencoded; charset=utf-8", body.join("&"))),
            )
            .await
            .map_err(|e| wrap(e.text()))?;
        if !(200..400).contains(&resp.status) {
            let falls_back = (resp.status == 405 && !username.is_empty()) || matches!(resp.status, 404 | 401 | 400);
            if !falls_back {
                return Err(wrap(format!("unexpected status: {}", resp.status_line)));
            }
            return self
                .token_get(realm, service, scopes, Some((username, secret)))
                .await
                .map_err(wrap);
        }
        let v: serde_json::Value =
            first_json(&resp.body).map_err(|e| wrap(format!("unable to decode token response: {e}")))?;
        match v.get("access_token").and_then(|t| t.as_str()).filter(|t| !t.is_empty()) {
            Some(t) => Ok(t.to_string()),
            None => Err(wrap("unable to decode token response: missing access_token".into())),
        }
    }

    /// `auth.FetchToken`: GET realm?scope=…&service=… (Basic credentials when given).
    async fn token_get(
        &self,
        realm: &str,
        service: &str,
        scopes: &[String],
        credentials: Option<(&str, &str)>,
    ) -> Result<String, String> {
        let mut q: Vec<(&str, &str)> = Vec::new();
        for s in scopes {
            q.push(("scope", s));
        }
        if !service.is_empty() {
            q.push(("service", service));
        }
        q.sort_by_key(|(k, _)| *k);
        let query: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::engine::simulated::go_query_escape(v)))
            .collect();
        let sep = if realm.contains('?') { "&" } else { "?" };
        let url = format!("{realm}{sep}{}", query.join("&"));
        let basic = credentials.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let resp = self
            .raw("GET", &url, basic.as_deref(), None)
            .await
            .map_err(|e| e.text())?;
        if !(200..400).contains(&resp.status) {
            return Err(format!("unexpected status: {}", resp.status_line));
        }
        let v = first_json(&resp.body).map_err(|e| format!("unable to decode token response: {e}"))?;
        let token = v
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .or_else(|| v.get("token").and_then(|t| t.as_str()))
            .unwrap_or("");
        if token.is_empty() {
            return Err("authorization server did not include a token in the response".into());
        }
        Ok(token.to_string())
    }

    async fn send(
        &self,
        method: &'static str,
        url: &str,
        authorization: Option<&str>,
        accept: &str,
    ) -> Result<Seen, RequestError> {
        let mut resp = self.raw_with(method, url, authorization, None, Some(accept)).await?;
        resp.method = method;
        Ok(resp)
    }

    async fn raw(
        &self,
        method: &'static str,
        url: &str,
        authorization: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Result<Seen, RequestError> {
        self.raw_with(method, url, authorization, body, None).await
    }

    async fn raw_with(
        &self,
        method: &'static str,
        url: &str,
        authorization: Option<&str>,
        body: Option<(&str, String)>,
        accept: Option<&str>,
    ) -> Result<Seen, RequestError> {
        let parsed = url::Url::parse(url).map_err(|e| RequestError::Other(format!("parse {url:?}: {e}")))?;
        let tls = match (parsed.scheme(), &self.roots) {
            ("http", _) => None,
            ("https", Some(roots)) => Some(roots.clone()),
            _ => {
                return Err(RequestError::NotModelled(format!(
                    "{url}: containerd over TLS is modelled only with the node's trust store"
                )));
            }
        };
        let crate::http::Target {
            host,
            port,
            addr,
            path,
            host_header,
        } = crate::http::target(&self.network, &parsed);
        let Some(addr) = addr else {
            return Err(RequestError::NotModelled(format!(
                "{host}:{port} is no server of this scenario; what containerd prints when it cannot reach a registry is not modelled"
            )));
        };
        if let Some((roots, now)) = tls {
            return self
                .send_tls(
                    addr,
                    &host,
                    &host_header,
                    method,
                    &path,
                    authorization,
                    body,
                    accept,
                    (roots, now),
                    url,
                )
                .await;
        }
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("static method");
        let mut req = self
            .http
            .request(m, format!("http://{addr}{path}"))
            .header("host", host_header)
            .header("user-agent", format!("containerd/{}", self.profile.version));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        if let Some((ct, b)) = body {
            req = req.header("content-type", ct).body(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| RequestError::NotModelled(format!("regsim: request to the mock failed: {e}")))?;
        let (status, headers) = (resp.status(), resp.headers().clone());
        let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        Ok(Seen::new(method, url, status, headers, body))
    }
}

impl SimulatedContainerd {
    /// One request over TLS, the handshake checked against the node's store; a failed handshake
    /// is not modelled (containerd's words for it were not read).
    #[allow(clippy::too_many_arguments)]
    async fn send_tls(
        &self,
        addr: std::net::SocketAddr,
        host: &str,
        host_header: &str,
        method: &'static str,
        path: &str,
        authorization: Option<&str>,
        body: Option<(&str, String)>,
        accept: Option<&str>,
        (roots, now): (Vec<Vec<u8>>, i64),
        url: &str,
    ) -> Result<Seen, RequestError> {
        use crate::engine::tls;
        let check = tls::Check {
            roots: Some(roots),
            now,
        };
        let stream = tls::connect(addr, host, &check).await.map_err(|f| {
            RequestError::NotModelled(format!(
                "{url}: the TLS handshake fails ({}); containerd's text for it is not modelled",
                f.verdict()
            ))
        })?;
        let mut headers = vec![
            ("host", host_header.to_string()),
            ("user-agent", format!("containerd/{}", self.profile.version)),
        ];
        headers.extend(authorization.map(|a| ("authorization", a.to_string())));
        headers.extend(accept.map(|a| ("accept", a.to_string())));
        let payload = match body {
            Some((ct, b)) => {
                headers.push(("content-type", ct.to_string()));
                b.into_bytes()
            }
            None => Vec::new(),
        };
        let (status, headers, body) = crate::http::send_on(stream, method, path, &headers, payload)
            .await
            .map_err(|e| RequestError::NotModelled(format!("regsim: request to the mock failed: {e}")))?;
        Ok(Seen::new(method, url, status, headers, body))
    }
}

/// `application/vnd.docker.distribution.manifest.v1+json` (what text/plain is taken for).
const SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";

/// The fetcher of one pull: `dockerFetcher.Fetch` and `open` (fetcher.go:40-205), wrapped as
/// `content.Copy` and the read seeker wrap them.
struct Fetch<'a> {
    c: &'a SimulatedContainerd,
    host: &'a str,
    path: &'a str,
    handler: &'a mut Option<Handler>,
    scope: &'a str,
    username: &'a str,
    secret: &'a str,
}

impl Fetch<'_> {
    async fn json(&mut self, digest: &str, media: &str) -> Result<serde_json::Value, Stop> {
        let body = self.bytes(digest, media).await?;
        serde_json::from_slice(&body).map_err(|e| Stop::NotModelled(format!("{digest}: not JSON: {e}")))
    }

    /// Manifest types from `manifests/DIGEST`, anything else from `blobs/DIGEST`, with `Accept:
    /// MEDIA, */*`; failures as `failed to copy: httpReadSeeker: failed open: …`.
    async fn bytes(&mut self, digest: &str, media: &str) -> Result<Vec<u8>, Stop> {
        let manifest_type = matches!(
            media,
            regsim_wire::media::MANIFEST_V2
                | regsim_wire::media::MANIFEST_LIST_V2
                | regsim_wire::media::OCI_MANIFEST
                | regsim_wire::media::OCI_INDEX
                | SCHEMA1
        );
        let kind = if manifest_type { "manifests" } else { "blobs" };
        let url = format!(
            "{}://{}/v2/{}/{kind}/{digest}",
            scheme_for(self.host),
            self.host,
            self.path
        );
        let accept = format!("{media}, */*");
        let failed = |e: String, not_found: bool| Stop::Error {
            text: format!("failed to copy: httpReadSeeker: failed open: {e}"),
            not_found,
        };
        let got = self
            .c
            .with_retries_accept(
                "GET",
                &url,
                self.handler,
                self.scope,
                self.username,
                self.secret,
                &accept,
            )
            .await
            .map_err(|e| match e {
                RequestError::NotModelled(m) => Stop::NotModelled(m),
                e => failed(e.text(), false),
            })?;
        if got.status == 404 {
            // The manifests endpoint keeps open's error; the blobs endpoint says which descriptor.
            return Err(if manifest_type {
                failed(format!("content at {url} not found: not found"), true)
            } else {
                failed(
                    format!("could not fetch content descriptor {digest} ({media}) from remote: not found"),
                    true,
                )
            });
        }
        if got.status > 299 {
            let server = parse_errors(&got.body);
            return Err(failed(
                match server {
                    Some(m) => format!(
                        "unexpected status code {url}: {} - Server message: {m}",
                        got.status_line
                    ),
                    None => format!("unexpected status code {url}: {}", got.status_line),
                },
                false,
            ));
        }
        Ok(got.body)
    }
}

/// containerd's `Errors` from a registry body (remotes/docker/errcode.go, errdesc.go at v1.6.20):
/// codes it does not register read as UNKNOWN; an error without detail whose message is empty or
/// the code's own prints as the code alone, others as `code words: message`; several as `errors:`
/// and one per line. `None` when the body is no such list.
fn parse_errors(body: &[u8]) -> Option<String> {
    const REGISTERED: &[(&str, &str)] = &[
        ("UNKNOWN", "unknown error"),
        ("UNSUPPORTED", "The operation is unsupported."),
        ("UNAUTHORIZED", "authentication required"),
        ("DENIED", "requested access to the resource is denied"),
        ("UNAVAILABLE", "service unavailable"),
        ("TOOMANYREQUESTS", "too many requests"),
    ];
    let v: serde_json::Value = first_json(body).ok()?;
    let list = v.get("errors")?.as_array()?;
    let one = |e: &serde_json::Value| {
        let given = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
        let (code, own) = REGISTERED
            .iter()
            .find(|(c, _)| *c == given)
            .copied()
            .unwrap_or(REGISTERED[0]);
        let words = code.to_lowercase().replace('_', " ");
        let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
        let detail = e.get("detail").is_some_and(|d| !d.is_null());
        if !detail && (message.is_empty() || message == own) {
            words
        } else {
            format!("{words}: {message}")
        }
    };
    match list.as_slice() {
        [] => None,
        [e] => Some(one(e)),
        many => Some(format!(
            "errors:\n{}",
            many.iter().map(|e| format!("{}\n", one(e))).collect::<String>()
        )),
    }
}

enum RequestError {
    /// `failed to authorize: …` (the token or Basic handler failed).
    Authorize(String),
    /// `ErrInvalidAuthorization` with the server's message.
    InvalidAuthorization(String),
    Other(String),
    NotModelled(String),
}

impl RequestError {
    fn text(&self) -> String {
        match self {
            RequestError::Authorize(e) => format!("failed to authorize: {e}"),
            RequestError::InvalidAuthorization(e) | RequestError::Other(e) => e.clone(),
            RequestError::NotModelled(e) => e.clone(),
        }
    }
}

/// json.NewDecoder(...).Decode: the first value, with Go's error text.
fn first_json(body: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::Deserializer::from_slice(body)
        .into_iter::<serde_json::Value>()
        .next()
        .unwrap_or_else(|| serde_json::from_slice::<serde_json::Value>(b""))
        .map_err(|e| crate::engine::distribution::go_json_error(&String::from_utf8_lossy(body), &e))
}

/// `reference.ParseDockerRef(...).String()`: the full name, `:latest` added, a digest winning over
/// a tag.
pub fn normalized(r: &Reference) -> String {
    let name = format!("{}/{}", r.domain, r.path);
    match (&r.digest, &r.tag) {
        (Some(d), _) => format!("{name}@{d}"),
        (None, Some(t)) => format!("{name}:{t}"),
        (None, None) => format!("{name}:latest"),
    }
}

/// CRI `ParseAuth` (v1.6.20 `pkg/cri/server/image_pull.go:179-213`): credentials for `host`, or
/// none when the request names another server; `registry_token` is not supported.
pub fn parse_auth(auth: Option<&CriAuth>, host: &str) -> Result<(String, String), String> {
    let Some(a) = auth else {
        return Ok((String::new(), String::new()));
    };
    if !a.server_address.is_empty() {
        // url.Parse("host:port") has no Host: such an address never matches.
        let u = url::Url::parse(&a.server_address).map_err(|e| format!("parse server address: {e}"))?;
        let u_host = match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        if u_host != host {
            return Ok((String::new(), String::new()));
        }
    }
    if !a.username.is_empty() {
        return Ok((a.username.clone(), a.password.clone()));
    }
    if !a.identity_token.is_empty() {
        return Ok((String::new(), a.identity_token.clone()));
    }
    if !a.auth.is_empty() {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(a.auth.as_bytes())
            .map_err(|e| format!("illegal base64 data: {e}"))?;
        let s = String::from_utf8_lossy(&raw).into_owned();
        return match s.split_once(':') {
            Some((u, p)) => Ok((u.to_string(), p.trim_matches('\0').to_string())),
            None => Err(format!("invalid decoded auth: {}", go_quote(&s))),
        };
    }
    Ok((String::new(), String::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalise_as_parse_docker_ref() {
        let n = |s: &str| normalized(&Reference::parse(s).unwrap());
        assert_eq!(n("alpine"), "docker.io/library/alpine:latest");
        assert_eq!(n("127.0.0.1:5000/g/app:1"), "127.0.0.1:5000/g/app:1");
    }

    #[test]
    fn localhost_is_plain_http() {
        assert_eq!(scheme_for("127.0.0.1:5000"), "http");
        assert_eq!(scheme_for("localhost:5050"), "http");
        assert_eq!(scheme_for("[::1]:5000"), "http");
        assert_eq!(scheme_for("registry.example.com"), "https");
        assert_eq!(scheme_for("registry.example.com:5050"), "https");
    }

    #[test]
    fn cri_auth_follows_the_server_address() {
        let a = CriAuth {
            username: "u".into(),
            password: "p".into(),
            server_address: "https://r.example.com".into(),
            ..Default::default()
        };
        assert_eq!(parse_auth(Some(&a), "r.example.com").unwrap(), ("u".into(), "p".into()));
        assert_eq!(
            parse_auth(Some(&a), "other.example.com").unwrap(),
            (String::new(), String::new())
        );
        let b64 = CriAuth {
            auth: "dTpw".into(),
            ..Default::default()
        };
        assert_eq!(parse_auth(Some(&b64), "x").unwrap(), ("u".into(), "p".into()));
    }
}
