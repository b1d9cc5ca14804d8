//! The group's manifests and blobs, per release era (`versions::gitlab::dependency_proxy_eras`):
//! no cache and `render json:` (≤ 13.6), a cache by tag sent as a `.json` file (13.7–13.9), and
//! the cache by tag or digest with the upstream's digest and content type (13.10 →).

use super::empty;
use super::upstream::{Upstream, UpstreamReply};
use crate::journal::Answer;
use crate::wire::Wire;
use regsim_model::versions::{self, gitlab as gv};
use regsim_model::world::World;
use regsim_wire::digest::sha256_digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// A manifest request as the proxy passes it upstream.
pub(super) struct Asked<'a> {
    /// The group's cache key (its path, lower case).
    pub(super) group: &'a str,
    /// The image on Docker Hub (`library/…` for official images).
    pub(super) image: &'a str,
    pub(super) image_as_asked: &'a str,
    pub(super) reference: &'a str,
    pub(super) hub_token: &'a str,
}

/// A manifest request, answered as the instance's release answers it.
pub(super) fn serve(world: &World, upstream: &Upstream, cache: &SharedCache, asked: &Asked<'_>) -> Answer {
    // The release's upstream Accept types, joined as Rails joins them; none before 13.10.
    let accept = versions::lookup(&gv::dependency_proxy_accept(), &world.gitlab.version)
        .map(|e| e.value.join(","))
        .unwrap_or_default();
    let accept = (!accept.is_empty()).then_some(accept.as_str());
    let era = world.gitlab.proxy_era.value;
    match era.cache {
        gv::ManifestCache::None => manifest_uncached(upstream, asked, accept, era.reply),
        gv::ManifestCache::ByTag => manifest_cached_by_tag(upstream, cache, asked, accept, era.reply),
        gv::ManifestCache::ByTagOrDigest => manifest(upstream, cache, asked, accept),
    }
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
fn manifest_uncached(upstream: &Upstream, asked: &Asked<'_>, accept: Option<&str>, reply: gv::ManifestReply) -> Answer {
    let path = format!("/v2/{}/manifests/{}", asked.image, asked.reference);
    let got = match upstream.call("GET", &path, Some(asked.hub_token), accept) {
        Ok(r) => r,
        Err(e) => {
            return Answer::not_modelled(format!("Docker Hub could not be reached ({e})"));
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
    accept: Option<&str>,
    reply: gv::ManifestReply,
) -> Answer {
    if asked.reference.starts_with("sha256:") {
        return Answer::not_modelled(format!(
            "a manifest by digest at GitLab 13.7–13.9: the cache lookup by `{}:{}.json` finds nothing, the \
             upstream HEAD fails, and `cached_manifest_matches?` then compares two nil digests; what the controller \
             of those releases answered was not found (docs/research/dependency-proxy-13x.md Q5). Docker 20.10 \
             pulls by digest, so it cannot be replayed against these releases",
            asked.image_as_asked, asked.reference
        ));
    }
    let key = (
        asked.group.to_string(),
        format!("{}:{}.json", asked.image_as_asked, asked.reference),
    );
    let cached = cache.lock().expect("cache lock").manifests.get(&key).cloned();
    let path = format!("/v2/{}/manifests/{}", asked.image, asked.reference);
    let head = upstream.call("HEAD", &path, Some(asked.hub_token), accept);
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
    let got = match upstream.call("GET", &path, Some(asked.hub_token), accept) {
        Ok(r) if r.status == 200 => r,
        other => {
            let what = match other {
                Ok(r) => format!("answered {}", r.status),
                Err(e) => format!("could not be reached ({e})"),
            };
            return Answer::not_modelled(format!(
                "Docker Hub {what}; how GitLab 13.7–13.9 stored and answered a failed pull was not found \
                 (docs/research/dependency-proxy-13x.md Q5)"
            ));
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
fn manifest(upstream: &Upstream, cache: &SharedCache, asked: &Asked<'_>, accept: Option<&str>) -> Answer {
    let Asked {
        group,
        image,
        image_as_asked,
        reference,
        hub_token,
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
        return Answer::json(503, &body, format!("upstream HEAD failed and nothing is cached: {e}"));
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
        .unwrap_or_else(|| sha256_digest(&got.body));
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

pub(super) fn blob(
    upstream: &Upstream,
    cache: &SharedCache,
    group: &str,
    image: &str,
    digest: &str,
    hub_token: &str,
) -> Answer {
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
