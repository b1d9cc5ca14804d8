//! The Dependency Proxy for container images on mock GitLab (gitlab-rails.md §5.1–5.3):
//! `/jwt/auth?service=dependency_proxy`, `GET /v2`, and the group's manifests and blobs, fetched
//! from the Docker Hub mock over HTTP and cached per group. The decisions come from
//! `policy::dependency_proxy`; this file translates them into Rails' and Workhorse's answers.

use super::jwt::authenticated;
use super::{Answer, json};
use crate::mock::journal::{Rule, Verdict};
use crate::mock::wire::Wire;
use crate::policy::Authenticated;
use crate::policy::dependency_proxy::{
    ProxySubject, ProxyTokenRefusal, may_pull_anonymously, may_pull_through, proxy_token,
};
use crate::token::{ProxyClaims, issue_proxy_token, verify_proxy_token};
use crate::versions::gitlab as gv;
use crate::world::World;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use wiremock::Request;

#[derive(Debug, Clone)]
struct CachedManifest {
    digest: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// What each group's proxy holds: manifests by `image:tag` and by digest, blobs by digest.
#[derive(Debug, Default)]
pub struct ProxyCache {
    manifests: HashMap<(String, String), CachedManifest>,
    blobs: HashMap<(String, String), Vec<u8>>,
}

pub type SharedCache = Arc<Mutex<ProxyCache>>;

/// `/jwt/auth?service=dependency_proxy`, after authentication: the proxy token or its refusal
/// (`BaseServiceUtility#error` bodies).
pub(super) fn token(world: &World, auth: &Authenticated, issued: &AtomicU64) -> Answer {
    let subject = match proxy_token(world, auth) {
        Ok(s) => s,
        Err(ProxyTokenRefusal::NotEnabled) => {
            let body =
                serde_json::json!({"message": "dependency proxy not enabled", "status": "error", "http_status": 404});
            let why = "the instance's Dependency Proxy is off (gitlab.yml dependency_proxy.enabled)";
            return json(404, &body, why).with_rules(vec![
                authenticated(auth),
                Rule::new(Verdict::Refused, "a proxy token", why),
            ]);
        }
        Err(ProxyTokenRefusal::Forbidden { because }) => {
            let body = serde_json::json!({"message": "access forbidden", "status": "error", "http_status": 403});
            let rules = vec![
                authenticated(auth),
                Rule::new(Verdict::Refused, "a proxy token", because.as_str()),
            ];
            return json(403, &body, because).with_rules(rules);
        }
        Err(ProxyTokenRefusal::Unknown { because }) => {
            return Answer::new(Wire::new(500), format!("{} {because}", crate::mock::NOT_MODELLED));
        }
    };
    let now = world.clock.unix_timestamp();
    let n = issued.fetch_add(1, Ordering::SeqCst);
    let raw = |name: &str| world.tokens.iter().find(|t| t.name == name).map(|t| t.value.clone());
    let user_id = |u: &str| world.users.iter().position(|x| x.username == u).map(|i| i as u64 + 1);
    let mut claims = ProxyClaims {
        jti: format!("{}-dp-{n}", world.job.id),
        iat: now,
        nbf: now - 5,
        exp: now + world.gitlab.token_expire_minutes as i64 * 60,
        user_id: None,
        deploy_token: None,
        personal_access_token: None,
        group_access_token: None,
    };
    let who = match &subject {
        ProxySubject::User { username, token } => {
            claims.user_id = user_id(username);
            if let Some(t) = token {
                claims.personal_access_token = raw(t);
            }
            format!("user {username}")
        }
        ProxySubject::GroupAccessToken { bot, token } => {
            claims.user_id = user_id(bot);
            claims.group_access_token = raw(token);
            format!("group access token `{token}`")
        }
        ProxySubject::DeployToken { name } => {
            claims.deploy_token = raw(name);
            format!("deploy token `{name}`")
        }
    };
    let rules = vec![
        authenticated(auth),
        Rule::new(Verdict::Granted, "a proxy token", format!("it speaks for {who}")),
    ];
    json(
        200,
        &serde_json::json!({"token": issue_proxy_token(&claims)}),
        format!("proxy token for {who} ({})", auth.because),
    )
    .with_rules(rules)
}

/// The subject a valid proxy token speaks for.
fn subject_of(world: &World, claims: &ProxyClaims) -> Option<ProxySubject> {
    if let Some(raw) = &claims.deploy_token {
        return world
            .tokens
            .iter()
            .find(|t| &t.value == raw)
            .map(|t| ProxySubject::DeployToken { name: t.name.clone() });
    }
    let id = claims.user_id? as usize;
    let user = world.users.get(id.checked_sub(1)?)?;
    if let Some(raw) = &claims.group_access_token {
        let t = world.tokens.iter().find(|t| &t.value == raw)?;
        return Some(ProxySubject::GroupAccessToken {
            bot: user.username.clone(),
            token: t.name.clone(),
        });
    }
    Some(ProxySubject::User {
        username: user.username.clone(),
        token: None,
    })
}

fn empty(status: u16, note: impl Into<String>) -> Answer {
    Answer::new(Wire::new(status), note)
}

/// The 401 of `authenticate_user_from_jwt_token!`: empty body, a challenge naming the token service.
fn challenge(world: &World, why: &str) -> Answer {
    let header = format!(
        "Bearer realm=\"{}/jwt/auth\",service=\"dependency_proxy\"",
        world.gitlab.external_url()
    );
    Answer::new(
        Wire::new(401).insert_header("WWW-Authenticate", header.as_str()),
        format!("{why}: challenge"),
    )
}

fn bearer(req: &Request) -> Option<&str> {
    let h = req.headers.get("authorization")?.to_str().ok()?;
    (h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ")).then(|| h[7..].trim())
}

/// `GET /v2`: 200 with an empty body once the proxy token checks out, else the challenge. Before
/// the proxy authenticated, a bare `proc { [200, {}, ['']] }` answered everyone.
pub(super) fn ping(world: &World, req: &Request) -> Answer {
    if !world.gitlab.proxy_era.value.authenticates {
        return empty(
            200,
            "the Dependency Proxy does not authenticate in this release: 200 to everyone",
        );
    }
    match bearer(req).map(|t| verify_proxy_token(t, world.clock.unix_timestamp())) {
        Some(Ok(_)) => empty(200, "proxy token accepted"),
        Some(Err(e)) => challenge(world, &format!("bearer token refused ({e})")),
        None => challenge(world, "no bearer token"),
    }
}

/// A request under `/v2/<group>/dependency_proxy/containers/`.
pub struct ProxyRequest<'a> {
    pub group: &'a str,
    pub image: &'a str,
    pub kind: ProxyResource<'a>,
}

pub enum ProxyResource<'a> {
    Manifest(&'a str),
    Blob(&'a str),
}

pub fn parse(path: &str) -> Option<ProxyRequest<'_>> {
    let rest = path.strip_prefix("/v2/")?;
    let (group, rest) = rest.split_once("/dependency_proxy/containers/")?;
    if let Some((image, tag)) = rest.rsplit_once("/manifests/") {
        return Some(ProxyRequest {
            group,
            image,
            kind: ProxyResource::Manifest(tag),
        });
    }
    let (image, sha) = rest.rsplit_once("/blobs/")?;
    Some(ProxyRequest {
        group,
        image,
        kind: ProxyResource::Blob(sha),
    })
}

/// Docker Hub as GitLab reaches it: fixed names (`DependencyProxy::Registry`), here the mock.
/// The mock server's handler blocks while the request is out, as a Rails worker does while it
/// talks to Docker Hub; the request itself runs on [`upstream_runtime`].
pub struct Upstream {
    address: SocketAddr,
}

struct UpstreamCall {
    method: reqwest::Method,
    url: String,
    bearer: Option<String>,
    accept: Option<String>,
    reply: std::sync::mpsc::Sender<Result<UpstreamReply, String>>,
}

struct UpstreamReply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl UpstreamReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One thread for the process, running a runtime of its own that never stops, with one HTTP
/// client: GitLab's requests to Docker Hub run there, concurrently, and keep their connections
/// (a connection's task lives on this runtime, which is always driven). A handler cannot run
/// them on its own runtime: it is blocking one of that runtime's threads.
fn upstream_runtime() -> Result<&'static tokio::sync::mpsc::UnboundedSender<UpstreamCall>, String> {
    static TX: OnceLock<Result<tokio::sync::mpsc::UnboundedSender<UpstreamCall>, String>> = OnceLock::new();
    TX.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("the upstream runtime does not start: {e}"))?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<UpstreamCall>();
        std::thread::Builder::new()
            .name("regsim-upstream".into())
            .spawn(move || {
                rt.block_on(async move {
                    let client = reqwest::Client::builder()
                        .no_proxy()
                        .build()
                        .expect("a plain HTTP client builds");
                    while let Some(call) = rx.recv().await {
                        tokio::spawn(fetch_upstream(client.clone(), call));
                    }
                })
            })
            .map_err(|e| format!("the upstream thread does not start: {e}"))?;
        Ok(tx)
    })
    .as_ref()
    .map_err(Clone::clone)
}

async fn fetch_upstream(client: reqwest::Client, call: UpstreamCall) {
    let result = async {
        let mut r = client.request(call.method, call.url);
        if let Some(b) = call.bearer {
            r = r.bearer_auth(b);
        }
        if let Some(a) = call.accept {
            r = r.header("Accept", a);
        }
        let resp = r.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = resp.bytes().await.map_err(|e| e.to_string())?.to_vec();
        Ok(UpstreamReply { status, headers, body })
    }
    .await;
    let _ = call.reply.send(result);
}

impl Upstream {
    pub fn new(address: SocketAddr) -> Upstream {
        Upstream { address }
    }

    /// One request to the Docker Hub mock; `path` includes the query.
    fn call(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        accept: Option<&str>,
    ) -> Result<UpstreamReply, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let (reply, answer) = std::sync::mpsc::channel();
        upstream_runtime()?
            .send(UpstreamCall {
                method,
                url: format!("http://{}{path}", self.address),
                bearer: bearer.map(str::to_string),
                accept: accept.map(str::to_string),
                reply,
            })
            .map_err(|_| "the upstream worker has stopped".to_string())?;
        answer
            .recv()
            .map_err(|_| "the upstream worker has stopped".to_string())?
    }

    /// `DependencyProxy::RequestTokenService`: an anonymous pull token for `image`.
    fn token(&self, image: &str) -> Result<String, UpstreamReply> {
        let path = format!("/token?service=registry.docker.io&scope=repository:{image}:pull");
        let reply = self.call("GET", &path, None, None).map_err(|e| UpstreamReply {
            status: 599,
            headers: vec![],
            body: e.into_bytes(),
        })?;
        if reply.status != 200 {
            return Err(reply);
        }
        serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string))
            .ok_or(reply)
    }
}

/// Official images live under `library/` upstream (`DependencyProxy::Registry.image_path`).
fn upstream_image(image: &str) -> String {
    if image.contains('/') {
        image.to_string()
    } else {
        format!("library/{image}")
    }
}

/// A manifest or blob request: the controller's filters in their order (§5.3), then the cache.
pub(super) fn serve(
    world: &World,
    req: &Request,
    pr: &ProxyRequest<'_>,
    upstream: Option<&Upstream>,
    cache: &SharedCache,
) -> Answer {
    if !world.gitlab.proxy_era.value.authenticates {
        return serve_anonymously(world, pr, upstream, cache);
    }
    let now = world.clock.unix_timestamp();
    let claims = match bearer(req).map(|t| verify_proxy_token(t, now)) {
        Some(Ok(c)) => c,
        Some(Err(e)) => return challenge(world, &format!("bearer token refused ({e})")),
        None => return challenge(world, "no bearer token"),
    };
    if !world.gitlab.dependency_proxy {
        return empty(404, "the instance's Dependency Proxy is off");
    }
    let Some(subject) = subject_of(world, &claims) else {
        return challenge(world, "the token's user or deploy token no longer exists");
    };
    let decision = may_pull_through(world, &subject, pr.group);
    let verdict = if decision.allowed {
        Verdict::Granted
    } else {
        Verdict::Refused
    };
    let rule = Rule::new(
        verdict,
        format!("pull through {}'s Dependency Proxy", pr.group),
        decision.because.as_str(),
    );
    if !decision.allowed {
        return empty(404, format!("access_denied! (404, empty body): {}", decision.because)).with_rules(vec![rule]);
    }
    fetch(world, pr, upstream, cache).with_rules(vec![rule])
}

/// A request before the proxy authenticated: `Groups::ApplicationController#group` finds the group
/// only if an anonymous visitor may read it (else `route_not_found`, a redirect to sign in), then
/// `verify_dependency_proxy_enabled!` (the instance and, before 13.6, the license) and the rest.
fn serve_anonymously(world: &World, pr: &ProxyRequest<'_>, upstream: Option<&Upstream>, cache: &SharedCache) -> Answer {
    let decision = may_pull_anonymously(world, pr.group);
    let rule = Rule::new(
        if decision.allowed {
            Verdict::Granted
        } else {
            Verdict::Refused
        },
        format!("read {} anonymously", pr.group),
        decision.because.as_str(),
    );
    if !decision.allowed {
        let sign_in = format!("{}/users/sign_in", world.gitlab.external_url());
        return Answer::new(
            Wire::new(302).insert_header("Location", sign_in.as_str()),
            format!("route_not_found: redirect to sign in ({})", decision.because),
        )
        .with_rules(vec![rule]);
    }
    if !world.gitlab.dependency_proxy {
        return empty(404, "render_404: the instance's Dependency Proxy is off").with_rules(vec![rule]);
    }
    if !world.gitlab.proxy_licensed {
        return empty(
            404,
            "render_404: before GitLab 13.6 the Dependency Proxy is a GitLab Premium feature and this instance is on Free \
             (group.feature_available?(:dependency_proxy))",
        )
        .with_rules(vec![rule]);
    }
    fetch(world, pr, upstream, cache).with_rules(vec![rule])
}

/// An allowed manifest or blob request: Docker Hub's token, the group's setting, then the cache.
fn fetch(world: &World, pr: &ProxyRequest<'_>, upstream: Option<&Upstream>, cache: &SharedCache) -> Answer {
    let Some(upstream) = upstream else {
        return Answer::new(
            Wire::new(500),
            format!(
                "{} the scenario has no `docker_hub:` to proxy",
                crate::mock::NOT_MODELLED
            ),
        );
    };
    let image = upstream_image(pr.image);
    // ensure_token_granted!: Docker Hub first, even when the group's proxy is off.
    let hub_token = match upstream.token(&image) {
        Ok(t) => t,
        Err(reply) => {
            let body = serde_json::json!("Expected 200 response code for an access token");
            return json(
                reply.status,
                &body,
                format!("Docker Hub token request answered {}", reply.status),
            );
        }
    };
    let group = world.group(pr.group).expect("may_pull_through found the group");
    if !group.dependency_proxy.value {
        return empty(
            404,
            format!("ensure_feature_enabled!: the Dependency Proxy of {} is off", group.path),
        );
    }
    let key = group.path.to_lowercase();
    match pr.kind {
        ProxyResource::Manifest(reference) => {
            // The release's upstream Accept types, joined as Rails joins them; none before 13.10.
            let accept = crate::versions::lookup(&gv::dependency_proxy_accept(), &world.gitlab.version)
                .map(|e| e.value.join(","))
                .unwrap_or_default();
            let accept = (!accept.is_empty()).then_some(accept);
            let era = world.gitlab.proxy_era.value;
            let asked = Asked {
                group: &key,
                image: &image,
                image_as_asked: pr.image,
                reference,
                hub_token: &hub_token,
                accept: accept.as_deref(),
            };
            match era.cache {
                gv::ManifestCache::None => manifest_uncached(upstream, &asked, era.reply),
                gv::ManifestCache::ByTag => manifest_cached_by_tag(upstream, cache, &asked, era.reply),
                gv::ManifestCache::ByTagOrDigest => manifest(upstream, cache, &asked),
            }
        }
        ProxyResource::Blob(digest) => blob(upstream, cache, &key, &image, digest, &hub_token),
    }
}

/// A manifest request as the proxy passes it upstream.
struct Asked<'a> {
    /// The group's cache key (its path, lower case).
    group: &'a str,
    /// The image on Docker Hub (`library/…` for official images).
    image: &'a str,
    image_as_asked: &'a str,
    reference: &'a str,
    hub_token: &'a str,
    accept: Option<&'a str>,
}

/// `render json: <upstream body>` / `send_upload(<file>.json)`: the Rails-era replies, which carry
/// no digest (what Docker 20.10 needed, MR !52805).
fn rails_reply(reply: gv::ManifestReply, bytes: Vec<u8>) -> Wire {
    let content_type = match reply {
        gv::ManifestReply::RenderJson => "application/json; charset=utf-8",
        _ => "application/json",
    };
    Wire::new(200).set_body_raw(bytes, content_type)
}

/// `render status: <upstream status>, json: <upstream body>`: Docker Hub's error as it came, with
/// the header Rails adds to JSON errors so that Workhorse leaves them alone.
fn rails_upstream_error(got: &UpstreamReply) -> Answer {
    Answer::new(
        Wire::new(got.status)
            .insert_header("X-GitLab-Custom-Error", "1")
            .set_body_raw(got.body.clone(), "application/json; charset=utf-8"),
        format!(
            "PullManifestService: Docker Hub answered {}; `render status:, json:` passes its body on",
            got.status
        ),
    )
}

/// ≤ 13.6: no cache; every manifest request (HEADs too: Rails runs the GET action) is a GET to
/// Docker Hub, without Accept, answered with `render json:` (`PullManifestService`).
fn manifest_uncached(upstream: &Upstream, asked: &Asked<'_>, reply: gv::ManifestReply) -> Answer {
    let path = format!("/v2/{}/manifests/{}", asked.image, asked.reference);
    let got = match upstream.call("GET", &path, Some(asked.hub_token), asked.accept) {
        Ok(r) => r,
        Err(e) => {
            return Answer::new(
                Wire::new(500),
                format!("{} Docker Hub could not be reached ({e})", crate::mock::NOT_MODELLED),
            );
        }
    };
    if got.status != 200 {
        return rails_upstream_error(&got);
    }
    let note = format!(
        "PullManifestService: Docker Hub's {} ({} bytes), sent on as `render json:` (no digest header)",
        got.header("content-type").unwrap_or("manifest"),
        got.body.len()
    );
    Answer::new(rails_reply(reply, got.body), note)
}

/// 13.7 – 13.9: `FindOrCreateManifestService` with the cache keyed by `image:tag.json`: an
/// upstream HEAD (no Accept) whose digest matches the cached one serves the cache, else a GET
/// replaces it. Parts of this release's code were not found (dependency-proxy-13x.md Q2, Q5):
/// references by digest and upstream errors stop the run as not modelled.
fn manifest_cached_by_tag(
    upstream: &Upstream,
    cache: &SharedCache,
    asked: &Asked<'_>,
    reply: gv::ManifestReply,
) -> Answer {
    if asked.reference.starts_with("sha256:") {
        return Answer::new(
            Wire::new(500),
            format!(
                "{} a manifest by digest at GitLab 13.7–13.9: the cache lookup by `{}:{}.json` finds nothing, the \
                 upstream HEAD fails, and `cached_manifest_matches?` then compares two nil digests; what the controller \
                 of those releases answered was not found (docs/research/dependency-proxy-13x.md Q5). Docker 20.10 \
                 pulls by digest, so it cannot be replayed against these releases",
                crate::mock::NOT_MODELLED,
                asked.image_as_asked,
                asked.reference
            ),
        );
    }
    let key = (
        asked.group.to_string(),
        format!("{}:{}.json", asked.image_as_asked, asked.reference),
    );
    let cached = cache.lock().expect("cache lock").manifests.get(&key).cloned();
    let path = format!("/v2/{}/manifests/{}", asked.image, asked.reference);
    let head = upstream.call("HEAD", &path, Some(asked.hub_token), asked.accept);
    if let (Some(c), Ok(h)) = (&cached, &head)
        && h.status == 200
        && h.header("docker-content-digest") == Some(c.digest.as_str())
    {
        return Answer::new(
            rails_reply(reply, c.bytes.clone()),
            format!(
                "{} from the group's cache (upstream HEAD has the same digest)",
                c.digest
            ),
        );
    }
    let got = match upstream.call("GET", &path, Some(asked.hub_token), asked.accept) {
        Ok(r) if r.status == 200 => r,
        other => {
            let what = match other {
                Ok(r) => format!("answered {}", r.status),
                Err(e) => format!("could not be reached ({e})"),
            };
            return Answer::new(
                Wire::new(500),
                format!(
                    "{} Docker Hub {what}; how GitLab 13.7–13.9 stored and answered a failed pull was not found \
                     (docs/research/dependency-proxy-13x.md Q5)",
                    crate::mock::NOT_MODELLED
                ),
            );
        }
    };
    let digest = got.header("docker-content-digest").unwrap_or_default().to_string();
    let entry = CachedManifest {
        digest: digest.clone(),
        content_type: String::new(),
        bytes: got.body.clone(),
    };
    cache.lock().expect("cache lock").manifests.insert(key, entry);
    Answer::new(
        rails_reply(reply, got.body),
        format!("{digest} fetched from Docker Hub and cached; sent as the cached `.json` file (no digest header)"),
    )
}

/// 13.10 →: the cache by tag or digest, revalidated by digest and content type; the reply carries
/// the digest and the upstream content type.
fn manifest(upstream: &Upstream, cache: &SharedCache, asked: &Asked<'_>) -> Answer {
    let Asked {
        group,
        image,
        image_as_asked,
        reference,
        hub_token,
        accept,
    } = *asked;
    // Cached under `image:tag.json`, or by digest for a pull by digest.
    let cache_key = if reference.starts_with("sha256:") {
        (group.to_string(), reference.to_string())
    } else {
        (group.to_string(), format!("{image_as_asked}:{reference}.json"))
    };
    let cached = cache.lock().expect("cache lock").manifests.get(&cache_key).cloned();
    let path = format!("/v2/{image}/manifests/{reference}");
    let head = upstream.call("HEAD", &path, Some(hub_token), accept);
    let served_cached = |c: &CachedManifest, why: &str| {
        Answer::new(
            Wire::new(200)
                .insert_header("Docker-Content-Digest", c.digest.as_str())
                .insert_header("Docker-Distribution-Api-Version", "registry/2.0")
                .insert_header("Etag", format!("\"{}\"", c.digest).as_str())
                .set_body_raw(c.bytes.clone(), c.content_type.as_str()),
            format!("{} from the group's cache ({why})", c.digest),
        )
    };
    if let Some(c) = &cached {
        match &head {
            Ok(h) if h.status == 200 => {
                if h.header("docker-content-digest") == Some(c.digest.as_str())
                    && h.header("content-type") == Some(c.content_type.as_str())
                {
                    return served_cached(c, "upstream HEAD has the same digest");
                }
            }
            Ok(h) => return served_cached(c, &format!("upstream HEAD answered {}", h.status)),
            Err(e) => return served_cached(c, &format!("upstream HEAD failed: {e}")),
        }
    }
    if let Err(e) = &head {
        let body = serde_json::json!("Failed to download the manifest from the external registry");
        return json(503, &body, format!("upstream HEAD failed and nothing is cached: {e}"));
    }
    // send_dependency: Workhorse GETs the manifest, streams it and caches it; an upstream error
    // goes to the client as it came (status and body, current Workhorse).
    let got = match upstream.call("GET", &path, Some(hub_token), accept) {
        Ok(r) => r,
        Err(e) => return empty(502, format!("Workhorse could not reach Docker Hub: {e}")),
    };
    if got.status != 200 {
        let ct = got.header("content-type").unwrap_or("application/json").to_string();
        return Answer::new(
            Wire::new(got.status).set_body_raw(got.body.clone(), ct.as_str()),
            format!("Docker Hub answered {}; Workhorse passes it on", got.status),
        );
    }
    let digest = got
        .header("docker-content-digest")
        .map(str::to_string)
        .unwrap_or_else(|| crate::mock::image::sha256_digest(&got.body));
    let content_type = got.header("content-type").unwrap_or_default().to_string();
    let entry = CachedManifest {
        digest: digest.clone(),
        content_type: content_type.clone(),
        bytes: got.body.clone(),
    };
    {
        let mut c = cache.lock().expect("cache lock");
        c.manifests.insert(cache_key, entry.clone());
        c.manifests.insert((group.to_string(), digest.clone()), entry);
    }
    Answer::new(
        Wire::new(200)
            .insert_header("Docker-Content-Digest", digest.as_str())
            .set_body_raw(got.body, content_type.as_str()),
        format!("{digest} fetched from Docker Hub and cached"),
    )
}

fn blob(upstream: &Upstream, cache: &SharedCache, group: &str, image: &str, digest: &str, hub_token: &str) -> Answer {
    let key = (group.to_string(), digest.to_string());
    if let Some(bytes) = cache.lock().expect("cache lock").blobs.get(&key).cloned() {
        return Answer::new(
            Wire::new(200).set_body_raw(bytes.clone(), "application/octet-stream"),
            format!("{} bytes from the group's cache", bytes.len()),
        );
    }
    let got = match upstream.call("GET", &format!("/v2/{image}/blobs/{digest}"), Some(hub_token), None) {
        Ok(r) => r,
        Err(e) => return empty(502, format!("Workhorse could not reach Docker Hub: {e}")),
    };
    if got.status != 200 {
        return Answer::new(
            Wire::new(got.status).set_body_raw(got.body.clone(), "application/json"),
            format!("Docker Hub answered {}; Workhorse passes it on", got.status),
        );
    }
    cache.lock().expect("cache lock").blobs.insert(key, got.body.clone());
    Answer::new(
        Wire::new(200).set_body_raw(got.body.clone(), "application/octet-stream"),
        format!("{} bytes fetched from Docker Hub and cached", got.body.len()),
    )
}
