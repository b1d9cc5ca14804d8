//! Mock registries (docker/distribution v2.8): GitLab's container registry (GitLab's fork, token
//! auth against `/jwt/auth`) and other registries (upstream distribution with htpasswd Basic auth,
//! or none). The `/v2/` base, manifests, blobs and uploads each have their own file; auth wraps
//! them (`auth.rs`), as go-containerregistry's `pkg/registry` keeps auth apart from the core.

mod auth;
mod blobs;
mod manifests;
mod uploads;

use super::errcode::{self, Code};
use super::image::{self, Blob, Image};
use super::journal::{Exchange, Journal, describe_credentials, telling_headers};
use super::wire::Wire;
use crate::world::World;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wiremock::{Request, Respond, ResponseTemplate};

/// Which registry of the world a responder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Gitlab,
    /// `world.registries[i]`.
    Other(usize),
}

pub struct RegistryResponder {
    world: Arc<World>,
    journal: Journal,
    which: Which,
    images: Mutex<HashMap<(String, String), Arc<Image>>>,
    pushed: PushStore,
}

/// A registry's push state, shared with the stage so that it can be reset between runs.
pub type PushStore = Arc<Mutex<uploads::Pushed>>;

impl RegistryResponder {
    pub fn new(world: Arc<World>, journal: Journal, which: Which, pushed: PushStore) -> Self {
        RegistryResponder {
            world,
            journal,
            which,
            images: Mutex::new(HashMap::new()),
            pushed,
        }
    }

    fn host(&self) -> String {
        match self.which {
            Which::Gitlab => self.world.gitlab.registry.to_string(),
            Which::Other(i) => self.world.registries[i].host.to_string(),
        }
    }

    /// The images stored under `repository`: the world's, built on first use, then what clients
    /// pushed (a pushed tag replaces the world's).
    fn repository(&self, repository: &str) -> Vec<(String, Arc<Image>)> {
        let pushed = self.pushed.lock().expect("push store lock").images(repository);
        let mut all: Vec<(String, Arc<Image>)> = self
            .world_repository(repository)
            .into_iter()
            .filter(|(t, _)| !pushed.iter().any(|(p, _)| p == t))
            .collect();
        all.extend(pushed.into_iter().map(|(t, i)| (t, Arc::new(i))));
        all
    }

    /// A blob `repository` holds: in one of its images, or linked there by a push or mount.
    fn blob(&self, repository: &str, digest: &str) -> Option<Blob> {
        self.repository(repository)
            .iter()
            .flat_map(|(_, i)| i.blobs().cloned().collect::<Vec<_>>())
            .find(|b| b.digest == digest)
            .or_else(|| self.pushed.lock().expect("push store lock").blob(repository, digest))
    }

    fn world_repository(&self, repository: &str) -> Vec<(String, Arc<Image>)> {
        let stored: Vec<&crate::world::StoredImage> = match self.which {
            Which::Gitlab => self.world.projects.iter().flat_map(|p| &p.images).collect(),
            Which::Other(i) => self.world.registries[i].images.iter().collect(),
        };
        let host = self.host();
        let mut cache = self.images.lock().expect("image cache lock");
        stored
            .into_iter()
            .filter(|s| s.repository == repository)
            .map(|s| {
                let img = cache
                    .entry((s.repository.clone(), s.tag.clone()))
                    .or_insert_with(|| Arc::new(image::build(&host, &s.repository, &s.tag, s.layers)))
                    .clone();
                (s.tag.clone(), img)
            })
            .collect()
    }

    /// Auth for this registry: GitLab's token auth, or the other registry's own.
    fn check(&self, authz: Option<&str>, required: auth::Required<'_>) -> Result<(), Box<Reply>> {
        match self.which {
            Which::Gitlab => auth::check(&self.world, authz, required).map(|_| ()),
            Which::Other(i) => auth::check_other(&self.world.registries[i], authz, required),
        }
    }

    fn flavor(&self) -> Flavor {
        match self.which {
            Which::Gitlab => Flavor::GitlabFork,
            Which::Other(_) => Flavor::Upstream,
        }
    }
}

/// Whose docker/distribution answers: GitLab's fork (`application/json`, `ProjectPath` in
/// access details) or upstream v2.8 (`application/json; charset=utf-8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GitlabFork,
    Upstream,
}

impl Flavor {
    pub fn error_content_type(self) -> &'static str {
        match self {
            Flavor::GitlabFork => "application/json",
            Flavor::Upstream => "application/json; charset=utf-8",
        }
    }
}

/// What the registry answers, and what the journal says about it.
pub(crate) struct Reply {
    pub response: Wire,
    pub status: u16,
    pub note: String,
}

/// Headers every response carries (distribution sets the API version on every response; GitLab's
/// configuration adds `X-Content-Type-Options`).
pub(crate) fn base(status: u16) -> Wire {
    Wire::new(status)
        .insert_header("Docker-Distribution-Api-Version", "registry/2.0")
        .insert_header("X-Content-Type-Options", "nosniff")
}

/// An errcode body. For HEAD the body is dropped by the server but its length stays in
/// Content-Length, as Go's net/http does (docker needs it).
pub(crate) fn error(code: &Code, detail: Option<serde_json::Value>, note: impl Into<String>) -> Reply {
    error_as(Flavor::GitlabFork, code, detail, note)
}

pub(crate) fn error_as(
    flavor: Flavor,
    code: &Code,
    detail: Option<serde_json::Value>,
    note: impl Into<String>,
) -> Reply {
    let body = errcode::body(code, detail);
    Reply {
        response: base(code.status).set_body_raw(body.into_bytes(), flavor.error_content_type()),
        status: code.status,
        note: note.into(),
    }
}

/// A route the registry's router does not know: Go's `404 page not found`.
fn not_routed() -> Reply {
    Reply {
        response: base(404).set_body_raw(b"404 page not found\n".to_vec(), "text/plain; charset=utf-8"),
        status: 404,
        note: "no such route".into(),
    }
}

/// `/v2/<name>/manifests/<reference>`, `/v2/<name>/blobs/<digest>` or
/// `/v2/<name>/blobs/uploads/[<id>]`.
enum Route<'a> {
    Base,
    Manifest { name: &'a str, reference: &'a str },
    Blob { name: &'a str, digest: &'a str },
    Uploads { name: &'a str },
    Upload { name: &'a str, id: &'a str },
    Unknown,
}

fn route(path: &str) -> Route<'_> {
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Route::Unknown;
    };
    if rest.is_empty() {
        return Route::Base;
    }
    if let Some(i) = rest.rfind("/blobs/uploads/") {
        let (name, id) = (&rest[..i], &rest[i + "/blobs/uploads/".len()..]);
        return match (name.is_empty(), id) {
            (true, _) => Route::Unknown,
            (false, "") => Route::Uploads { name },
            (false, id) if !id.contains('/') => Route::Upload { name, id },
            _ => Route::Unknown,
        };
    }
    for (marker, manifest) in [("/manifests/", true), ("/blobs/", false)] {
        if let Some(i) = rest.rfind(marker) {
            let (name, tail) = (&rest[..i], &rest[i + marker.len()..]);
            if name.is_empty() || tail.is_empty() || tail.contains('/') {
                return Route::Unknown;
            }
            return if manifest {
                Route::Manifest { name, reference: tail }
            } else {
                Route::Blob { name, digest: tail }
            };
        }
    }
    Route::Unknown
}

impl Respond for RegistryResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let method = req.method.as_str();
        let path = req.url.path();
        let authz = req.headers.get("authorization").and_then(|v| v.to_str().ok());
        let host = req
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let flavor = self.flavor();
        // distribution's access records: GET/HEAD need pull, writes need pull and push.
        const PULL: &[&str] = &["pull"];
        const PUSH: &[&str] = &["pull", "push"];
        let reply = match (method, route(path)) {
            ("GET" | "HEAD", Route::Base) => match self.check(authz, &[]) {
                Ok(_) => Reply {
                    response: base(200).set_body_raw(b"{}".to_vec(), "application/json"),
                    status: 200,
                    note: "registry/2.0".into(),
                },
                Err(r) => *r,
            },
            ("GET" | "HEAD", Route::Manifest { name, reference }) => match self.check(authz, &[(name, PULL)]) {
                Ok(_) => manifests::get(flavor, &self.repository(name), name, reference),
                Err(r) => *r,
            },
            ("PUT", Route::Manifest { name, reference }) => match self.check(authz, &[(name, PUSH)]) {
                Ok(_) => {
                    let found = |d: &str| self.blob(name, d);
                    let mut pushed = self.pushed.lock().expect("push store lock");
                    uploads::put_manifest(flavor, &mut pushed, &host, name, reference, &req.body, found)
                }
                Err(r) => *r,
            },
            ("GET" | "HEAD", Route::Blob { name, digest }) => match self.check(authz, &[(name, PULL)]) {
                Ok(_) => blobs::get(flavor, self.blob(name, digest), digest),
                Err(r) => *r,
            },
            ("POST", Route::Uploads { name }) => {
                // A mount also needs pull on the source repository (distribution's app.go).
                let from = query.get("from").map(String::as_str);
                let mount = query.get("mount").map(String::as_str);
                let mut required: Vec<(&str, &[&str])> = vec![(name, PUSH)];
                if let Some(f) = from {
                    required.push((f, PULL));
                }
                match self.check(authz, &required) {
                    Ok(_) => {
                        let mount = mount.zip(from).map(|(d, f)| (d, self.blob(f, d)));
                        let mut pushed = self.pushed.lock().expect("push store lock");
                        uploads::start(&mut pushed, &host, name, mount)
                    }
                    Err(r) => *r,
                }
            }
            ("PATCH", Route::Upload { name, id }) => match self.check(authz, &[(name, PUSH)]) {
                Ok(_) => uploads::patch(
                    flavor,
                    &mut self.pushed.lock().expect("push store lock"),
                    &host,
                    name,
                    id,
                    &req.body,
                ),
                Err(r) => *r,
            },
            ("PUT", Route::Upload { name, id }) => match self.check(authz, &[(name, PUSH)]) {
                Ok(_) => uploads::finish(
                    flavor,
                    &mut self.pushed.lock().expect("push store lock"),
                    &host,
                    name,
                    id,
                    query.get("digest").map(String::as_str),
                    &req.body,
                ),
                Err(r) => *r,
            },
            (_, Route::Unknown) => not_routed(),
            // Deletes, catalog listings and the like are not part of the modelled registry.
            _ => error_as(
                flavor,
                &errcode::UNSUPPORTED,
                None,
                format!("{method} is not modelled by the mock registry"),
            ),
        };
        let target = match req.url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        self.journal.record(Exchange {
            server: match self.which {
                Which::Gitlab => "registry".into(),
                Which::Other(_) => self.host(),
            },
            method: method.to_string(),
            target,
            credentials: describe_credentials(authz),
            status: reply.status,
            note: reply.note,
            rules: Vec::new(),
            request_headers: telling_headers(&req.headers),
            response: reply.response.clone(),
        });
        reply.response.template()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_split_names_at_the_last_marker() {
        assert!(matches!(route("/v2/"), Route::Base));
        assert!(matches!(
            route("/v2/a/b/manifests/latest"),
            Route::Manifest {
                name: "a/b",
                reference: "latest"
            }
        ));
        assert!(matches!(
            route("/v2/a/blobs/x/blobs/sha256:1"),
            Route::Blob {
                name: "a/blobs/x",
                digest: "sha256:1"
            }
        ));
        assert!(matches!(route("/v2/manifests/latest"), Route::Unknown));
        assert!(matches!(route("/other"), Route::Unknown));
    }
}
