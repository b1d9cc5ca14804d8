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

use super::journal::{Exchange, Journal, describe_credentials, telling_headers};
use super::wire::Wire;
use super::{errcode, image};
use crate::world::World;
use std::sync::{Arc, Mutex};

use wiremock::{Request, Respond, ResponseTemplate};

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
    images: Vec<(image::Platform, image::Image)>,
}

impl HubImage {
    /// The manifest a request for `reference` gets. A tag of a multi-platform image answers the
    /// list only to clients that accept one; others get the linux/amd64 image's manifest, as
    /// distribution's registry does for clients without manifest-list support (Docker Hub runs
    /// distribution; registry/handlers/manifests.go GetManifest, `defaultArch`/`defaultOS`).
    fn manifest(&self, reference: &str, accepts_list: bool) -> Option<Result<&image::Blob, String>> {
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
                    .find(|(p, _)| *p == image::Platform::default())
                    .map(|(_, i)| &i.manifest)
                    .ok_or_else(|| {
                        format!(
                            "{} a client without manifest-list support asked for {}:{}, which has no linux/amd64 image",
                            super::NOT_MODELLED,
                            self.repository,
                            self.tag
                        )
                    }),
            ),
        }
    }
}

pub struct DockerHubResponder {
    journal: Journal,
    limit: u32,
    state: RateState,
    images: Vec<HubImage>,
    /// When schema 1 conversions are signed (the scenario clock).
    clock: time::OffsetDateTime,
}

impl DockerHubResponder {
    pub fn new(world: &World, journal: Journal, state: RateState) -> Self {
        let hub = world
            .docker_hub
            .clone()
            .expect("a Docker Hub mock only for worlds with one");
        state.lock().expect("rate lock").used = hub.pulls_used;
        // The scenario's name keeps one scenario's images apart from another's in a shared daemon.
        let salt = format!("docker.io ({})", world.name);
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
                            image::Platform::default(),
                            image::build_hub(&salt, &i.repository, &i.tag, i.layers, &image::Platform::default()),
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
        DockerHubResponder {
            journal,
            limit: hub.rate_limit,
            state,
            images,
            clock: world.clock,
        }
    }

    fn rate_headers(&self, t: Wire, used: u32) -> Wire {
        t.insert_header("RateLimit-Limit", format!("{};w={WINDOW_SECONDS}", self.limit).as_str())
            .insert_header(
                "RateLimit-Remaining",
                format!("{};w={WINDOW_SECONDS}", self.limit.saturating_sub(used)).as_str(),
            )
    }

    fn answer(&self, req: &Request) -> (Wire, u16, String) {
        let path = req.url.path();
        let method = req.method.as_str();
        if path == "/token" {
            let scope = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            // An opaque bearer token naming the scope: GitLab only passes it back.
            let token = format!("dockerhub-anonymous:{scope}");
            let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 300});
            return (
                Wire::new(200).set_body_raw(body.to_string().into_bytes(), "application/json"),
                200,
                format!("anonymous token for {scope}"),
            );
        }
        let Some(rest) = path.strip_prefix("/v2/") else {
            return (Wire::new(404), 404, "no such route".into());
        };
        let bearer = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
            if bearer != format!("dockerhub-anonymous:repository:{name}:pull") {
                let challenge = format!(
                    "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:{name}:pull\""
                );
                let r = super::registry::error_as(
                    super::registry::Flavor::Upstream,
                    &errcode::UNAUTHORIZED,
                    None,
                    "no token",
                );
                return (
                    r.response.insert_header("WWW-Authenticate", challenge.as_str()),
                    401,
                    "no token for this repository: challenge".into(),
                );
            }
            let accepts_list = accepts(
                req,
                &[image::MANIFEST_LIST_V2, "application/vnd.oci.image.index.v1+json"],
            );
            let accepts_schema2 = accepts(req, &[image::MANIFEST_V2]);
            let found = self
                .images
                .iter()
                .filter(|i| i.repository == name)
                .find_map(|i| i.manifest(reference, accepts_list).map(|m| (i, m)));
            let (hub_image, m) = match found {
                Some((i, Ok(m))) => (i, m),
                Some((_, Err(not_modelled))) => return (Wire::new(404), 404, not_modelled),
                None if reference.starts_with("sha256:") => {
                    // distribution: MANIFEST_UNKNOWN with ErrManifestUnknownRevision as detail.
                    // Docker Hub's own body for this was not fetched (docker-errors.md §9); a
                    // Docker log shows only the code and that a detail came.
                    let body = serde_json::json!({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                        "detail": {"Name": name, "Revision": reference}}]});
                    return (
                        Wire::new(404).set_body_raw(body.to_string().into_bytes(), "application/json; charset=utf-8"),
                        404,
                        format!("no manifest {reference} in {name}: MANIFEST_UNKNOWN"),
                    );
                }
                // The loader only lets scenarios ask for images the Hub holds.
                None => {
                    return (
                        Wire::new(404),
                        404,
                        format!("{name}:{reference} is not on this Docker Hub"),
                    );
                }
            };
            // A client that does not accept schema 2 asking for a tag gets the image converted to
            // schema 1 (distribution GetManifest: "Only rewrite schema2 manifests when they are
            // being fetched by tag"); a list is first narrowed to its linux/amd64 image (above).
            let converted;
            let m = if !accepts_schema2 && !reference.starts_with("sha256:") && m.media_type == image::MANIFEST_V2 {
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
                converted = match super::schema1::convert(img, name, reference, &signed_at) {
                    Ok(s) => image::Blob {
                        digest: s.digest,
                        media_type: super::schema1::MEDIA_TYPE,
                        bytes: s.bytes,
                    },
                    Err(e) => return (Wire::new(500), 500, format!("schema 1 conversion failed: {e}")),
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
                return (
                    self.rate_headers(t, st.used),
                    200,
                    format!(
                        "{} (HEADs are not counted; {} of {} used)",
                        m.digest, st.used, self.limit
                    ),
                );
            }
            st.gets += 1;
            if st.used >= self.limit {
                let body = serde_json::json!({"errors": [{"code": "TOOMANYREQUESTS", "message": "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]});
                let t = Wire::new(429).set_body_raw(body.to_string().into_bytes(), "application/json");
                return (
                    self.rate_headers(t, st.used),
                    429,
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
            return (
                self.rate_headers(t, st.used),
                200,
                format!("{} (counted: {} of {} used)", m.digest, st.used, self.limit),
            );
        }
        if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
            let blob = self
                .images
                .iter()
                .filter(|i| i.repository == name)
                .flat_map(|i| i.images.iter().flat_map(|(_, img)| img.blobs()))
                .find(|b| b.digest == digest);
            return match blob {
                Some(b) => (
                    Wire::new(200).set_body_raw(b.bytes.clone(), "application/octet-stream"),
                    200,
                    format!("{} bytes", b.bytes.len()),
                ),
                None => (Wire::new(404), 404, format!("no blob {digest}")),
            };
        }
        (Wire::new(404), 404, "no such route".into())
    }
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

impl Respond for DockerHubResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let (response, status, note) = self.answer(req);
        let target = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_string(),
        };
        let host = if req.url.path() == "/token" {
            AUTH_HOST
        } else {
            REGISTRY_HOST
        };
        self.journal.record(Exchange {
            server: host.into(),
            method: req.method.to_string(),
            target,
            credentials: describe_credentials(req.headers.get("authorization").and_then(|v| v.to_str().ok())),
            status,
            note,
            rules: Vec::new(),
            request_headers: telling_headers(&req.headers),
            response: response.clone(),
        });
        response.template()
    }
}
