//! Docker Hub as the Dependency Proxy's upstream: `auth.docker.io/token` (anonymous tokens) and
//! `registry-1.docker.io/v2/…` (manifests and blobs) on one mock, with the pull rate limit.
//!
//! Facts (seed 002; gitlab-rails.md §5.1): GitLab asks `https://auth.docker.io/token?service=
//! registry.docker.io&scope=repository:<image>:pull` without credentials, then the registry with
//! that bearer token. The limit counts manifest GETs per 6-hour window (`RateLimit-Limit:
//! 100;w=21600`, `RateLimit-Remaining: 98;w=21600` as the seed quotes them); HEADs are not counted.
//! Docker Hub's own 401/404 bodies for unknown repositories were not fetched (docker-errors.md §9),
//! so scenarios may only ask for images the Hub holds. Blob redirects to Docker's CDN are left out.
//! Every manifest GET counts, the list's and the platform manifest's alike; whether Docker Hub
//! counts a multi-platform pull once or per GET is UNCONFIRMED (seed 002 only says HEADs are free).

use crate::image;
use crate::journal::{Answer, Handler};
use crate::registry::{RegistryKind, error_as};
use crate::request::Request;
use crate::wire::Wire;
use regsim_model::world::DockerHub;
use regsim_wire::challenge::render;
use regsim_wire::errcode::{self, ErrorCode};
use regsim_wire::media::{MANIFEST_LIST_V2, MANIFEST_V1_SIGNED, MANIFEST_V2, OCI_INDEX};
use regsim_wire::platform::Platform;
use std::sync::{Arc, Mutex};

/// The Hub's token service and registry as the journal names them. Only GitLab (the Dependency
/// Proxy) calls this mock, so an exchange with either host is one GitLab made.
pub const AUTH_HOST: &str = "auth.docker.io";
pub const REGISTRY_HOST: &str = "registry-1.docker.io";

/// The window the rate limit counts in, seconds.
pub const WINDOW_SECONDS: u32 = 21_600;

/// The Hub's counter for GitLab's address.
#[derive(Debug, Clone, Default)]
pub struct RateCounter {
    pub used: u32,
    /// Manifest GETs and HEADs seen, for the report.
    pub gets: u32,
    pub heads: u32,
}

pub type RateState = Arc<Mutex<RateCounter>>;

/// One repository:tag on the Hub: a plain image, or a manifest list over one image per platform.
struct HubImage {
    repository: String,
    tag: String,
    list: Option<image::Blob>,
    images: Vec<(Platform, image::Image)>,
}

impl HubImage {
    /// The manifest a request for `reference` gets. A tag of a multi-platform image answers the
    /// list only to clients that accept one; others get the linux/amd64 image's manifest, as
    /// distribution's registry does for clients without manifest-list support (Docker Hub runs
    /// distribution; registry/handlers/manifests.go GetManifest, `defaultArch`/`defaultOS`).
    fn manifest(&self, reference: &str, accepts_list: bool) -> Option<Result<&image::Blob, regsim_wire::NotModelled>> {
        if reference.starts_with("sha256:") {
            if let Some(l) = self.list.as_ref().filter(|l| l.digest == reference) {
                return Some(Ok(l));
            }
            return self
                .images
                .iter()
                .find(|(_, i)| i.manifest.digest == reference)
                .map(|(_, i)| Ok(&i.manifest));
        }
        if reference != self.tag {
            return None;
        }
        match &self.list {
            None => Some(Ok(&self.images[0].1.manifest)),
            Some(l) if accepts_list => Some(Ok(l)),
            Some(_) => Some(
                self.images
                    .iter()
                    .find(|(p, _)| *p == Platform::default())
                    .map(|(_, i)| &i.manifest)
                    .ok_or_else(|| {
                        regsim_wire::NotModelled::new(format!(
                            "a client without manifest-list support asked for {}:{}, which has no linux/amd64 image",
                            self.repository, self.tag
                        ))
                    }),
            ),
        }
    }
}

pub struct DockerHubServer {
    limit: u32,
    /// Docker Hub accounts: username → password or personal access token.
    accounts: std::collections::BTreeMap<String, String>,
    /// Pulls counted per account in this window, and the accounts' limit.
    account_pulls: Mutex<std::collections::BTreeMap<String, u32>>,
    account_limit: u32,
    locked: Vec<String>,
    state: RateState,
    images: Vec<HubImage>,
    /// The Hub as the world describes it, for who-may-pull (`policy::docker_hub`).
    hub: DockerHub,
    /// When schema 1 conversions are signed (the scenario clock).
    clock: time::OffsetDateTime,
}

impl DockerHubServer {
    /// Docker Hub as `hub` describes it, for one client address whose counter is `state`, with
    /// `used` pulls already counted. `scenario` names the scenario, which keeps one scenario's
    /// images apart from another's in a shared daemon; `clock` signs schema 1 conversions.
    pub fn new(hub: &DockerHub, scenario: &str, clock: time::OffsetDateTime, state: RateState, used: u32) -> Self {
        state.lock().expect("rate lock").used = used;
        let salt = format!("docker.io ({scenario})");
        let images = hub
            .images
            .iter()
            .map(|i| {
                if i.platforms.is_empty() {
                    HubImage {
                        repository: i.repository.clone(),
                        tag: i.tag.clone(),
                        list: None,
                        images: vec![(
                            Platform::default(),
                            image::build_hub(&salt, &i.repository, &i.tag, i.layers, &Platform::default()),
                        )],
                    }
                } else {
                    let m = image::build_list(&salt, &i.repository, &i.tag, i.layers, &i.platforms);
                    HubImage {
                        repository: i.repository.clone(),
                        tag: i.tag.clone(),
                        list: Some(m.list),
                        images: m.images,
                    }
                }
            })
            .collect();
        DockerHubServer {
            accounts: hub.accounts.clone(),
            account_pulls: Mutex::new(hub.account_pulls_used.clone()),
            account_limit: hub.account_rate_limit,
            locked: hub.locked_accounts.clone(),
            limit: hub.rate_limit,
            state,
            images,
            hub: hub.clone(),
            clock,
        }
    }

    fn rate_headers(&self, t: Wire, used: u32) -> Wire {
        t.insert_header("RateLimit-Limit", format!("{};w={WINDOW_SECONDS}", self.limit).as_str())
            .insert_header(
                "RateLimit-Remaining",
                format!("{};w={WINDOW_SECONDS}", self.limit.saturating_sub(used)).as_str(),
            )
    }

    fn answer_request(&self, req: &Request) -> Answer {
        let path = req.url.path();
        if path == "/token" {
            // auth.docker.io's answer to an OAuth POST (containerd with credentials) was never
            // fetched; dockerd only GETs.
            if req.method.as_str() != "GET" {
                return Answer::not_modelled(format!(
                    "{} {AUTH_HOST}/token: Docker Hub's answer to an OAuth POST is not known",
                    req.method
                ));
            }
            return self.token(req);
        }
        let Some(rest) = path.strip_prefix("/v2/") else {
            return Answer::new(Wire::new(404), "no such route");
        };
        if rest.is_empty() {
            // The version check: Docker Hub asks for a token, naming its token service.
            let challenge = challenge(None, None);
            let r = error_as(
                RegistryKind::Distribution,
                ErrorCode::Unauthorized,
                None,
                "authentication required",
            );
            return Answer::new(
                r.response.insert_header("WWW-Authenticate", challenge.as_str()),
                "no bearer token: challenge",
            );
        }
        if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
            return self.manifest(req, name, reference);
        }
        if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
            return self.blob(name, digest);
        }
        Answer::new(Wire::new(404), "no such route")
    }

    /// `GET|HEAD /v2/NAME/manifests/REFERENCE`: the bearer token Docker Hub's token service
    /// issued for NAME, then the manifest (converted to schema 1 for clients without schema 2),
    /// counted against the rate limit when it is a GET.
    fn manifest(&self, req: &Request, name: &str, reference: &str) -> Answer {
        let method = req.method.as_str();
        let bearer = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        let granted = token_scope(bearer).filter(|(scope, _)| *scope == format!("repository:{name}:pull"));
        if granted.is_none() {
            let challenge = challenge(Some(name), None);
            let r = error_as(RegistryKind::Distribution, ErrorCode::Unauthorized, None, "no token");
            return Answer::new(
                r.response.insert_header("WWW-Authenticate", challenge.as_str()),
                "no token for this repository: challenge",
            );
        }
        let account = granted.and_then(|(_, account)| account);
        if !regsim_model::policy::docker_hub::may_pull(&self.hub, name, account) {
            return insufficient_scope(
                name,
                format!(
                    "{name} is private and {} may not read it: insufficient_scope",
                    account.map_or("an anonymous token".to_string(), |a| format!("account {a}"))
                ),
            );
        }
        let accepts_list = accepts(req, &[MANIFEST_LIST_V2, OCI_INDEX]);
        let accepts_schema2 = accepts(req, &[MANIFEST_V2]);
        let found = self
            .images
            .iter()
            .filter(|i| i.repository == name)
            .find_map(|i| i.manifest(reference, accepts_list).map(|m| (i, m)));
        let (hub_image, m) = match found {
            Some((i, Ok(m))) => (i, m),
            Some((_, Err(not_modelled))) => {
                return Answer {
                    not_modelled: Some(not_modelled.clone()),
                    ..Answer::new(Wire::new(404), not_modelled.to_string())
                };
            }
            None if reference.starts_with("sha256:") => {
                // distribution: MANIFEST_UNKNOWN with ErrManifestUnknownRevision as detail.
                // Docker Hub's own body for this was not fetched (docker-errors.md §9); a
                // Docker log shows only the code and that a detail came.
                let detail = serde_json::json!({"Name": name, "Revision": reference});
                let body = errcode::body(ErrorCode::ManifestUnknown, Some(detail));
                let body = body.trim_end();
                return Answer::new(
                    Wire::new(404).set_body_raw(body.to_string().into_bytes(), "application/json; charset=utf-8"),
                    format!("no manifest {reference} in {name}: MANIFEST_UNKNOWN"),
                );
            }
            // A repository the Hub does not have is answered like a private one the caller may not
            // read: 401 with `error="insufficient_scope"` and distribution's UNAUTHORIZED body
            // naming the access record (docs/research/registries-identities.md §1.3: a
            // distribution maintainer's word and a mirror's quote; `"Class":""` NOT CONFIRMED
            // for the Hub itself, and no client prints it).
            None if !self.images.iter().any(|i| i.repository == name) => {
                return insufficient_scope(
                    name,
                    format!("{name} does not exist: insufficient_scope, as for a private repository"),
                );
            }
            // A tag the repository does not have: MANIFEST_UNKNOWN with the detail as a string,
            // `unknown tag=TAG` (registries-identities.md §1.3: go-containerregistry clients
            // print it as `MANIFEST_UNKNOWN: manifest unknown; unknown tag=nope` in many public
            // logs; dockerd shows only code and message).
            None => {
                let body = format!(
                    "{{\"errors\":[{{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{}}}]}}",
                    regsim_wire::go_json::string(&format!("unknown tag={reference}"))
                );
                return Answer::new(
                    Wire::new(404).set_body_raw(body.into_bytes(), "application/json"),
                    format!("{name} has no tag {reference}: MANIFEST_UNKNOWN"),
                );
            }
        };
        // A client that does not accept schema 2 asking for a tag gets the image converted to
        // schema 1 (distribution GetManifest: "Only rewrite schema2 manifests when they are
        // being fetched by tag"); a list is first narrowed to its linux/amd64 image (above).
        let converted;
        let m = if !accepts_schema2 && !reference.starts_with("sha256:") && m.media_type == MANIFEST_V2 {
            let img = hub_image
                .images
                .iter()
                .map(|(_, i)| i)
                .find(|i| i.manifest.digest == m.digest)
                .expect("a served image manifest belongs to one of the tag's images");
            let signed_at = self
                .clock
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            converted = match crate::schema1::convert(img, name, reference, &signed_at) {
                Ok(s) => image::Blob {
                    digest: s.digest,
                    media_type: MANIFEST_V1_SIGNED,
                    bytes: s.bytes,
                },
                Err(e) => return Answer::new(Wire::new(500), format!("schema 1 conversion failed: {e}")),
            };
            &converted
        } else {
            m
        };
        let mut st = self.state.lock().expect("rate lock");
        if method == "HEAD" {
            st.heads += 1;
            let t = Wire::new(200)
                .insert_header("Docker-Content-Digest", m.digest.as_str())
                .insert_header("Content-Type", m.media_type)
                .insert_header("Content-Length", m.bytes.len().to_string().as_str());
            let counted = match account {
                Some(a) => {
                    let used = self
                        .account_pulls
                        .lock()
                        .expect("account counter lock")
                        .get(a)
                        .copied()
                        .unwrap_or(0);
                    format!("{a}: {used} of {}", self.account_limit)
                }
                None => format!("this address: {} of {}", st.used, self.limit),
            };
            return Answer::new(
                self.rate_headers(t, st.used),
                format!("{} (HEADs are not counted; {counted} used)", m.digest),
            );
        }
        // An account's pulls count against the account, not the address.
        if let Some(account) = account {
            let mut pulls = self.account_pulls.lock().expect("account counter lock");
            let used = pulls.entry(account.to_string()).or_insert(0);
            if *used >= self.account_limit {
                let Some(era) = regsim_model::versions::docker_hub::authenticated_rate_limit(self.clock) else {
                    let m = regsim_wire::NotModelled::new(format!(
                        "Docker Hub's message to an account over its pull limit before 2026 is not known \
                         ({account} has used {used} of {})",
                        self.account_limit
                    ));
                    return Answer {
                        not_modelled: Some(m.clone()),
                        ..Answer::new(Wire::new(429), m.to_string())
                    };
                };
                let message = era.message.replace("{account}", account).replace(
                    "{token_id}",
                    &token_id(self.accounts.get(account).map(String::as_str).unwrap_or("")),
                );
                let body = errcode::body_with_message(ErrorCode::TooManyRequests, &message, None);
                let t = Wire::new(429).set_body_raw(body.trim_end().to_string().into_bytes(), "application/json");
                return Answer::new(
                    t.insert_header(
                        "RateLimit-Limit",
                        format!("{};w={WINDOW_SECONDS}", self.account_limit).as_str(),
                    )
                    .insert_header("RateLimit-Remaining", format!("0;w={WINDOW_SECONDS}").as_str()),
                    format!("{account}'s pull limit reached: {used} of {}", self.account_limit),
                );
            }
            *used += 1;
            let t = Wire::new(200)
                .insert_header("Docker-Content-Digest", m.digest.as_str())
                .insert_header(
                    "RateLimit-Limit",
                    format!("{};w={WINDOW_SECONDS}", self.account_limit).as_str(),
                )
                .insert_header(
                    "RateLimit-Remaining",
                    format!("{};w={WINDOW_SECONDS}", self.account_limit - *used).as_str(),
                )
                .set_body_raw(m.bytes.clone(), m.media_type);
            return Answer::new(
                t,
                format!(
                    "{} (counted for {account}: {} of {} used)",
                    m.digest, *used, self.account_limit
                ),
            );
        }
        st.gets += 1;
        if st.used >= self.limit {
            // The wording of the scenario's day (versions/docker_hub.rs).
            let message = regsim_model::versions::docker_hub::anonymous_rate_limit(self.clock).message;
            let body = errcode::body_with_message(ErrorCode::TooManyRequests, message, None);
            let body = body.trim_end();
            let t = Wire::new(429).set_body_raw(body.to_string().into_bytes(), "application/json");
            return Answer::new(
                self.rate_headers(t, st.used),
                format!(
                    "rate limit reached: {} of {} manifest GETs in this window",
                    st.used, self.limit
                ),
            );
        }
        st.used += 1;
        let t = Wire::new(200)
            .insert_header("Docker-Content-Digest", m.digest.as_str())
            .set_body_raw(m.bytes.clone(), m.media_type);
        Answer::new(
            self.rate_headers(t, st.used),
            format!("{} (counted: {} of {} used)", m.digest, st.used, self.limit),
        )
    }

    /// `GET /v2/NAME/blobs/DIGEST` (the CDN redirect left out).
    fn blob(&self, name: &str, digest: &str) -> Answer {
        let blob = self
            .images
            .iter()
            .filter(|i| i.repository == name)
            .flat_map(|i| i.images.iter().flat_map(|(_, img)| img.blobs()))
            .find(|b| b.digest == digest);
        match blob {
            Some(b) => Answer::new(
                Wire::new(200).set_body_raw(b.bytes.clone(), "application/octet-stream"),
                format!("{} bytes", b.bytes.len()),
            ),
            None => Answer::new(Wire::new(404), format!("no blob {digest}")),
        }
    }
}

impl DockerHubServer {
    /// `auth.docker.io/token`: an anonymous token naming the scope (GitLab only passes it back),
    /// or, with Basic credentials of an account (password or personal access token), the
    /// account's. Wrong credentials get 401 `{"details":"incorrect username or password"}` and a
    /// newline (docs/research/registries-identities.md: public reports and clients that compare
    /// the exact body; the status and body are not confirmed at Docker).
    fn token(&self, req: &Request) -> Answer {
        let scope = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let basic = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(regsim_wire::challenge::basic_credentials);
        let (token, said) = match basic {
            None => (
                format!("dockerhub-anonymous:{scope}"),
                format!("anonymous token for {scope}"),
            ),
            // Locked after too many failed logins: refused whatever the password (a 429 with
            // `details`; versions/docker_hub.rs TOO_MANY_FAILED_LOGINS).
            Some(Some((user, _))) if self.locked.contains(&user) => {
                let body = format!(
                    "{{\"details\":{}}}\n",
                    regsim_wire::go_json::string(regsim_model::versions::docker_hub::TOO_MANY_FAILED_LOGINS)
                );
                return Answer::new(
                    Wire::new(429).set_body_raw(body.into_bytes(), "application/json"),
                    format!("{user} is locked after too many failed logins"),
                );
            }
            Some(Some((user, password))) if self.accounts.get(&user) == Some(&password) => (
                format!("dockerhub-user:{user}:{scope}"),
                format!("token of account {user} for {scope}"),
            ),
            Some(_) => {
                return Answer::new(
                    Wire::new(401).set_body_raw(
                        b"{\"details\":\"incorrect username or password\"}\n".to_vec(),
                        "application/json",
                    ),
                    "incorrect username or password",
                );
            }
        };
        let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 300});
        Answer::new(
            Wire::new(200).set_body_raw(body.to_string().into_bytes(), "application/json"),
            said,
        )
    }
}

/// A repository the caller may not read, or that does not exist: 401 with
/// `error="insufficient_scope"` and distribution's UNAUTHORIZED body naming the access record.
fn insufficient_scope(name: &str, said: String) -> Answer {
    let challenge = challenge(Some(name), Some("insufficient_scope"));
    let detail = serde_json::json!([{"Type": "repository", "Class": "", "Name": name, "Action": "pull"}]);
    let body = errcode::body(ErrorCode::Unauthorized, Some(detail));
    Answer::new(
        Wire::new(401)
            .set_body_raw(body.into_bytes(), "application/json; charset=utf-8")
            .insert_header("WWW-Authenticate", challenge.as_str()),
        said,
    )
}

/// Docker Hub's `WWW-Authenticate`: its token service, the repository's pull scope when one is
/// asked for, and an `error` when the token did not grant it.
fn challenge(repository: Option<&str>, error: Option<&str>) -> String {
    let scope = repository.map(|name| format!("repository:{name}:pull"));
    let mut params = vec![
        ("realm", "https://auth.docker.io/token"),
        ("service", "registry.docker.io"),
    ];
    if let Some(scope) = &scope {
        params.push(("scope", scope));
    }
    if let Some(error) = error {
        params.push(("error", error));
    }
    render("Bearer", &params)
}

/// The scope a token names and the account that holds it (`None`: not a token of this Hub).
fn token_scope(bearer: &str) -> Option<(&str, Option<&str>)> {
    if let Some(scope) = bearer.strip_prefix("dockerhub-anonymous:") {
        return Some((scope, None));
    }
    let rest = bearer.strip_prefix("dockerhub-user:")?;
    rest.split_once(':').map(|(account, scope)| (scope, Some(account)))
}

/// The access token's id as the 2026 rate-limit message shows it (`dckr_jti_…`, base64 with
/// `-`/`_` and padding in the public log): regsim derives a stable one from the token itself.
fn token_id(secret: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    format!(
        "dckr_jti_{}",
        base64::engine::general_purpose::URL_SAFE.encode(&digest[..20])
    )
}

/// Whether the request's `Accept` headers (one or several, comma-separated) name one of `types`.
fn accepts(req: &Request, types: &[&str]) -> bool {
    req.headers
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| types.contains(&t.trim()))
}

impl Handler for DockerHubServer {
    /// Only GitLab (the Dependency Proxy) calls this mock, so an exchange with either host is one
    /// GitLab made.
    fn server(&self, req: &Request) -> String {
        if req.url.path() == "/token" {
            AUTH_HOST
        } else {
            REGISTRY_HOST
        }
        .into()
    }

    fn answer(&self, req: &Request) -> Answer {
        self.answer_request(req)
    }
}
