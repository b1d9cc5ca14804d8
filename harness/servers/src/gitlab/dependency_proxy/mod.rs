//! The Dependency Proxy for container images on mock GitLab (gitlab-rails.md §5.1–5.3): `GET
//! /v2` and the group's manifests and blobs, behind the controller's filters in their order.
//! The decisions come from `policy::dependency_proxy`; this module translates them into Rails'
//! and Workhorse's answers. Apart: the proxy token (`token`), the Docker Hub client (`upstream`),
//! and the manifests per release era with the group's cache (`manifests`).

mod manifests;
mod token;
mod upstream;

pub use manifests::SharedCache;
pub(crate) use token::token;
pub use upstream::Upstream;

use crate::journal::{Answer, Rule, Verdict};
use crate::request::Request;
use crate::settings::Settings;
use crate::token::verify_proxy_token;
use crate::wire::Wire;
use regsim_model::policy::dependency_proxy::{may_pull_anonymously, may_pull_through};
use regsim_model::world::World;
use regsim_wire::challenge::render;
use regsim_wire::reference::hub_repository;

pub(super) fn empty(status: u16, note: impl Into<String>) -> Answer {
    Answer::new(Wire::new(status), note)
}

/// The 401 of `authenticate_user_from_jwt_token!`: empty body, a challenge naming the token service.
fn challenge(world: &World, why: &str) -> Answer {
    let realm = format!("{}/jwt/auth", world.gitlab.external_url());
    let header = render("Bearer", &[("realm", &realm), ("service", "dependency_proxy")]);
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
pub(super) fn ping(world: &World, req: &Request, settings: &Settings) -> Answer {
    if !world.gitlab.proxy_era.value.authenticates {
        return empty(
            200,
            "the Dependency Proxy does not authenticate in this release: 200 to everyone",
        );
    }
    let now = settings.clock.gitlab_now(world);
    match bearer(req).map(|t| verify_proxy_token(t, now, settings.keys.proxy_secret)) {
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

/// What the proxy serves from: Docker Hub (when the scenario has one), the groups' cache, and
/// the server's clock and keys.
pub struct Proxy<'a> {
    pub upstream: Option<&'a Upstream>,
    pub cache: &'a SharedCache,
    pub settings: &'a Settings,
}

/// A manifest or blob request: the controller's filters in their order (§5.3), then the cache.
pub(super) fn serve(world: &World, req: &Request, pr: &ProxyRequest<'_>, proxy: &Proxy<'_>) -> Answer {
    let (upstream, cache) = (proxy.upstream, proxy.cache);
    if !world.gitlab.proxy_era.value.authenticates {
        return serve_anonymously(world, pr, upstream, cache);
    }
    let now = proxy.settings.clock.gitlab_now(world);
    let claims = match bearer(req).map(|t| verify_proxy_token(t, now, proxy.settings.keys.proxy_secret)) {
        Some(Ok(c)) => c,
        Some(Err(e)) => return challenge(world, &format!("bearer token refused ({e})")),
        None => return challenge(world, "no bearer token"),
    };
    if !world.gitlab.dependency_proxy {
        return empty(404, "the instance's Dependency Proxy is off");
    }
    let Some(subject) = token::subject_of(world, &claims) else {
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
        return Answer::not_modelled("the scenario has no `docker_hub:` to proxy");
    };
    // Official images live under `library/` upstream (`DependencyProxy::Registry.image_path`).
    let image = hub_repository(pr.image);
    // ensure_token_granted!: Docker Hub first, even when the group's proxy is off.
    let hub_token = match upstream.token(&image) {
        Ok(t) => t,
        Err(reply) => {
            let body = serde_json::json!("Expected 200 response code for an access token");
            return Answer::json(
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
            let asked = manifests::Asked {
                group: &key,
                image: &image,
                image_as_asked: pr.image,
                reference,
                hub_token: &hub_token,
            };
            manifests::serve(world, upstream, cache, &asked)
        }
        ProxyResource::Blob(digest) => manifests::blob(upstream, cache, &key, &image, digest, &hub_token),
    }
}
