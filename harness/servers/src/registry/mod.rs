//! Mock registries (docker/distribution v2.8): GitLab's container registry (GitLab's fork, token
//! auth against `/jwt/auth`) and other registries (upstream distribution with htpasswd Basic auth,
//! or none). Each is built from its own [`RegistryConfig`]: which distribution it is
//! ([`RegistryKind`]), which access controller guards it (`access`), and what it holds. The `/v2/`
//! base, manifests, blobs and uploads each have their own file; the access controller wraps them,
//! as go-containerregistry's `pkg/registry` keeps auth apart from the core.

pub mod access;
mod blobs;
mod manifests;
pub mod products;
mod uploads;

use crate::image::{self, Blob, Image};
use crate::journal::{Answer, Handler};
use crate::request::Request;
use crate::wire::Wire;
use access::{AccessController, AccessRecord, Challenge, PULL, PUSH};
use regsim_model::world::{OtherRegistry, RegistryAuth, StoredImage, World};
use regsim_wire::errcode::{self, ErrorCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Whose docker/distribution answers. Where they differ is here, one method each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryKind {
    /// GitLab's fork (the container registry of GitLab 12.x →): `application/json` error bodies,
    /// `ProjectPath` in access details.
    GitlabFork,
    /// Upstream distribution v2.8: `application/json; charset=utf-8`, plain access details.
    Distribution,
}

impl RegistryKind {
    pub fn error_content_type(self) -> &'static str {
        match self {
            RegistryKind::GitlabFork => "application/json",
            RegistryKind::Distribution => "application/json; charset=utf-8",
        }
    }

    /// The `detail` of an UNAUTHORIZED body: one access record per action the request needed
    /// (GitLab's fork adds `ProjectPath`; upstream distribution does not).
    fn access_detail(self, records: &[AccessRecord<'_>]) -> serde_json::Value {
        if records.is_empty() {
            return serde_json::Value::Null;
        }
        records
            .iter()
            .flat_map(|r| r.actions.iter().map(move |a| (r.name, a)))
            .map(|(n, a)| {
                let mut d = serde_json::json!({"Type": "repository", "Class": "", "Name": n});
                if self == RegistryKind::GitlabFork {
                    d["ProjectPath"] = "".into();
                }
                d["Action"] = a.as_str().into();
                d
            })
            .collect()
    }
}

/// Everything one registry server is built from.
pub struct RegistryConfig {
    /// How the journal names it: `registry` for GitLab's, the host for others.
    pub journal_name: String,
    /// `host[:port]` its images are stored under (part of their content, so that no two
    /// registries serve the same bytes).
    pub host: String,
    pub kind: RegistryKind,
    pub access: Box<dyn AccessController>,
    pub images: Vec<StoredImage>,
}

impl RegistryConfig {
    /// GitLab's container registry: every project's images, token auth against GitLab.
    pub fn gitlab(world: &std::sync::Arc<World>, settings: &crate::settings::Settings) -> RegistryConfig {
        RegistryConfig {
            journal_name: "registry".into(),
            host: world.gitlab.registry.to_string(),
            kind: RegistryKind::GitlabFork,
            access: Box::new(access::TokenAuth::for_gitlab(world, settings)),
            images: world.projects.iter().flat_map(|p| p.images.iter().cloned()).collect(),
        }
    }

    /// A registry that is not GitLab's (`registries:`).
    pub fn other(
        world: &std::sync::Arc<World>,
        registry: &OtherRegistry,
        settings: &crate::settings::Settings,
    ) -> RegistryConfig {
        let access: Box<dyn AccessController> = match &registry.auth {
            RegistryAuth::Product { product, .. } => {
                Box::new(products::ProductAuth::new(world, registry, *product, settings))
            }
            _ => return RegistryConfig::distribution(registry),
        };
        RegistryConfig {
            access,
            ..RegistryConfig::distribution(registry)
        }
    }

    /// A registry that needs no world to answer: upstream distribution (htpasswd or no auth) or
    /// ECR's Basic check. Products with a token service need the world: see [`Self::other`].
    pub fn distribution(registry: &OtherRegistry) -> RegistryConfig {
        let access: Box<dyn AccessController> = match &registry.auth {
            RegistryAuth::Basic { realm, users } => Box::new(access::Htpasswd {
                realm: realm.clone(),
                users: users.clone(),
            }),
            RegistryAuth::Ecr { .. } => Box::new(products::EcrAuth {
                registry: registry.clone(),
            }),
            RegistryAuth::None | RegistryAuth::Product { .. } => Box::new(access::Open),
        };
        RegistryConfig {
            journal_name: registry.host.to_string(),
            host: registry.host.to_string(),
            kind: RegistryKind::Distribution,
            access,
            images: registry.images.clone(),
        }
    }
}

/// A running registry: its configuration, the images built from it (on first use), what
/// clients pushed.
pub struct RegistryServer {
    config: RegistryConfig,
    images: Mutex<HashMap<(String, String), Arc<Image>>>,
    pushed: PushStore,
}

/// A registry's push state, shared with the stage so that it can be reset between runs.
pub type PushStore = Arc<Mutex<uploads::Pushed>>;

impl RegistryServer {
    pub fn new(config: RegistryConfig, pushed: PushStore) -> Self {
        RegistryServer {
            config,
            images: Mutex::new(HashMap::new()),
            pushed,
        }
    }

    /// The images stored under `repository`: the configured ones, built on first use, then what
    /// clients pushed (a pushed tag replaces a configured one).
    fn repository(&self, repository: &str) -> Vec<(String, Arc<Image>)> {
        let pushed = self.pushed.lock().expect("push store lock").images(repository);
        let mut all: Vec<(String, Arc<Image>)> = self
            .stored(repository)
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

    /// A blob of one of the configured images under `repository` (not what was pushed).
    fn stored_blob(&self, repository: &str, digest: &str) -> Option<Blob> {
        self.stored(repository)
            .iter()
            .flat_map(|(_, i)| i.blobs().cloned().collect::<Vec<_>>())
            .find(|b| b.digest == digest)
    }

    fn stored(&self, repository: &str) -> Vec<(String, Arc<Image>)> {
        let host = &self.config.host;
        let mut cache = self.images.lock().expect("image cache lock");
        self.config
            .images
            .iter()
            .filter(|s| s.repository == repository)
            .map(|s| {
                let img = cache
                    .entry((s.repository.clone(), s.tag.clone()))
                    .or_insert_with(|| Arc::new(image::build(host, &s.repository, &s.tag, s.layers)))
                    .clone();
                (s.tag.clone(), img)
            })
            .collect()
    }

    /// The access controller's verdict; a refusal renders its challenge as distribution does.
    fn check(
        &self,
        method: &str,
        authorization: Option<&str>,
        records: &[AccessRecord<'_>],
    ) -> Result<(), Box<Answer>> {
        self.config
            .access
            .authorized_for(method, authorization, records)
            .map_err(|c| Box::new(self.unauthorized(c, records)))
    }

    /// `401 UNAUTHORIZED` with the challenge header and the access records as detail, or the
    /// controller's own answer.
    fn unauthorized(&self, c: Challenge, records: &[AccessRecord<'_>]) -> Answer {
        if let Some(r) = c.refusal {
            let mut a = Answer::new(
                Wire::new(r.status)
                    .insert_header("Docker-Distribution-Api-Version", "registry/2.0")
                    .set_body_raw(r.body, r.content_type)
                    .insert_header("WWW-Authenticate", c.www_authenticate.as_str()),
                c.note,
            );
            a.not_modelled = r.not_modelled;
            return a;
        }
        let kind = self.config.kind;
        let mut a = error_as(kind, ErrorCode::Unauthorized, Some(kind.access_detail(records)), c.note);
        a.response = a
            .response
            .insert_header("WWW-Authenticate", c.www_authenticate.as_str());
        a
    }
}

/// Headers every response carries (distribution sets the API version on every response; GitLab's
/// configuration adds `X-Content-Type-Options`).
pub(crate) fn base(status: u16) -> Wire {
    Wire::new(status)
        .insert_header("Docker-Distribution-Api-Version", "registry/2.0")
        .insert_header("X-Content-Type-Options", "nosniff")
}

/// An errcode body as `kind` writes it. For HEAD the body is dropped by the server but its length
/// stays in Content-Length, as Go's net/http does (docker needs it).
pub(crate) fn error_as(
    kind: RegistryKind,
    code: ErrorCode,
    detail: Option<serde_json::Value>,
    note: impl Into<String>,
) -> Answer {
    let body = errcode::body(code, detail);
    Answer::new(
        base(code.status()).set_body_raw(body.into_bytes(), kind.error_content_type()),
        note,
    )
}

/// A route the registry's router does not know: Go's `404 page not found`.
fn not_routed() -> Answer {
    Answer::new(
        base(404).set_body_raw(b"404 page not found\n".to_vec(), "text/plain; charset=utf-8"),
        "no such route",
    )
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

impl Handler for RegistryServer {
    fn server(&self, _: &Request) -> String {
        self.config.journal_name.clone()
    }

    fn answer(&self, req: &Request) -> Answer {
        let method = req.method.as_str();
        let authz = req.headers.get("authorization").and_then(|v| v.to_str().ok());
        // `scheme://Host`: the base of the Location URLs (distribution: https when r.TLS is set).
        let host = format!(
            "{}://{}",
            req.url.scheme(),
            req.headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        );
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let kind = self.config.kind;
        let pull = |name| [AccessRecord { name, actions: PULL }];
        let push = |name| [AccessRecord { name, actions: PUSH }];
        if let Some(ts) = self.config.access.token_service()
            && req.url.path() == ts.path()
        {
            // containerd POSTs an OAuth form when it has credentials; what these products answer
            // to that is not known (dockerd only GETs).
            if method != "GET" && method != "HEAD" && !ts.answers_any_method() {
                return Answer::not_modelled(format!(
                    "{method} {}: this product's token service answer to anything but GET (containerd's OAuth \
                     form) is not known",
                    ts.path()
                ));
            }
            let scopes: Vec<String> = req
                .url
                .query_pairs()
                .filter(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
                .collect();
            return match ts.token(authz, &scopes) {
                Ok((token, note)) => {
                    let body = serde_json::json!({"token": token, "access_token": token, "expires_in": 1800});
                    Answer::new(
                        Wire::new(200).set_body_raw(body.to_string().into_bytes(), "application/json"),
                        note,
                    )
                }
                Err(r) => {
                    let note = if r.content_type.starts_with("text/html") {
                        "an HTML page from the reverse proxy in front of the token service"
                    } else {
                        "wrong credentials at the token service"
                    };
                    Answer::new(Wire::new(r.status).set_body_raw(r.body, r.content_type), note)
                }
            };
        }
        match (method, route(req.url.path())) {
            ("GET" | "HEAD", Route::Base) => match self.check(method, authz, &[]) {
                Ok(_) => Answer::new(
                    base(200).set_body_raw(b"{}".to_vec(), "application/json"),
                    "registry/2.0",
                ),
                Err(r) => *r,
            },
            ("GET" | "HEAD", Route::Manifest { name, reference }) => match self.check(method, authz, &pull(name)) {
                Ok(_) => manifests::get(kind, &self.repository(name), name, reference),
                Err(r) => *r,
            },
            ("PUT", Route::Manifest { name, reference }) => match self.check(method, authz, &push(name)) {
                Ok(_) => {
                    // Only the configured images here: the push store is locked below, and
                    // put_manifest looks there itself (taking the lock twice hung the server;
                    // found by `make fuzz`).
                    let found = |d: &str| self.stored_blob(name, d);
                    let mut pushed = self.pushed.lock().expect("push store lock");
                    uploads::put_manifest(kind, &mut pushed, &host, name, reference, &req.body, found)
                }
                Err(r) => *r,
            },
            ("GET" | "HEAD", Route::Blob { name, digest }) => match self.check(method, authz, &pull(name)) {
                Ok(_) => blobs::get(kind, self.blob(name, digest), digest),
                Err(r) => *r,
            },
            ("POST", Route::Uploads { name }) => {
                // A mount also needs pull on the source repository (distribution's app.go).
                let from = query.get("from").map(String::as_str);
                let mount = query.get("mount").map(String::as_str);
                let mut records = vec![AccessRecord { name, actions: PUSH }];
                if let Some(f) = from {
                    records.push(AccessRecord { name: f, actions: PULL });
                }
                match self.check(method, authz, &records) {
                    Ok(_) => {
                        let mount = mount.zip(from).map(|(d, f)| (d, self.blob(f, d)));
                        let mut pushed = self.pushed.lock().expect("push store lock");
                        uploads::start(&mut pushed, &host, name, mount)
                    }
                    Err(r) => *r,
                }
            }
            ("PATCH", Route::Upload { name, id }) => match self.check(method, authz, &push(name)) {
                Ok(_) => {
                    let mut pushed = self.pushed.lock().expect("push store lock");
                    uploads::patch(kind, &mut pushed, &host, name, id, &req.body)
                }
                Err(r) => *r,
            },
            ("PUT", Route::Upload { name, id }) => match self.check(method, authz, &push(name)) {
                Ok(_) => {
                    let digest = query.get("digest").map(String::as_str);
                    let mut pushed = self.pushed.lock().expect("push store lock");
                    uploads::finish(kind, &mut pushed, &host, name, id, digest, &req.body)
                }
                Err(r) => *r,
            },
            (_, Route::Unknown) => not_routed(),
            // Deletes, catalog listings and the like are not part of the modelled registry.
            _ => error_as(
                kind,
                ErrorCode::Unsupported,
                None,
                format!("{method} is not modelled by the mock registry"),
            ),
        }
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
