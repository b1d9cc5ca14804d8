//! The Docker daemon on the runner host, behind the Engine API calls the runner makes
//! (`POST /images/create` to pull, `GET /images/{name}/json` to inspect) and those a Docker CLI
//! inside the job makes through the mounted socket (`POST /auth`, `/build`, `/images/{name}/tag`,
//! `/images/{name}/push`). `simulated` speaks to the registry over real HTTP and words its errors
//! per version; `real` forwards to a running dockerd, so the two can be compared.

mod build;
pub mod distribution;
mod login;
mod push;
pub mod real;
pub mod schema1;
pub mod simulated;
pub mod tls;

pub use regsim_wire::engine_api::{AuthConfig, DaemonError, ImageInspect, Message, ProgressStream};

use regsim_model::world::DockerHost;
use regsim_wire::net::Network;
use serde::Serialize;

/// One step of how the simulated engine read the registry's answers and worded its error, with
/// the rule it followed (`regsim explain` shows them; the job log only shows the result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Reading {
    /// `HandleErrorResponse` on an error answer: what the engine made of it and why.
    ErrorResponse {
        method: String,
        url: String,
        status: u16,
        why: String,
    },
    /// A HEAD that failed has no error body, or one that succeeded gave no digest: the engine GETs
    /// the manifest by tag.
    HeadThenGet { url: String, status: u16 },
    /// The manifest by digest was not found; 20.10 – 28.1 pull it by tag instead.
    TagFallback { digest: String, error: String },
    /// A Basic challenge and no credentials in `X-Registry-Auth`: no request is sent.
    NoBasicCredentials,
    /// A manifest list without the host's platform: the pull's progress stream ends in an error.
    NoMatchingManifest { platform: String, message: String },
    /// A TLS connection the engine made to `host`, and how its certificate check ended (only
    /// what departs from a public CA's certificate checked against the system store: a
    /// failure, a registry's `certs.d` directory, an insecure registry).
    Handshake { host: String, verdict: String },
    /// `TranslatePullError`: the registry's first error becomes the daemon's HTTP answer.
    Translated {
        /// The first error as the engine renders it.
        first: String,
        status: u16,
        message: String,
        /// The version-table row that chose the wording, and its source.
        rule: String,
    },
}

impl std::fmt::Display for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reading::ErrorResponse {
                method,
                url,
                status,
                why,
            } => write!(f, "{method} {url} → {status}: {why}"),
            Reading::Handshake { host, verdict } => write!(f, "TLS handshake with {host}: {verdict}"),
            Reading::HeadThenGet { url, status } if (200..300).contains(status) => write!(
                f,
                "HEAD {url} → {status} without Docker-Content-Digest: the engine GETs the tag and takes the \
                 digest from that answer's body (distribution registry/client tags.Get, descriptorFromResponse), \
                 then fetches the manifest by that digest"
            ),
            Reading::HeadThenGet { url, status } => write!(
                f,
                "HEAD {url} → {status}: a HEAD has no error body, so the engine GETs the manifest and reads the \
                 error from that answer (docker-errors.md §5.1)"
            ),
            Reading::TagFallback { digest, error } => write!(
                f,
                "GET of the manifest by its resolved digest {digest} → \"{error}\", a not-found error: the engine \
                 falls back to the tag and warns only in the pull's progress stream (moby 495d623, 20.10.0 – 28.1)"
            ),
            Reading::NoBasicCredentials => f.write_str(
                "the registry asks for Basic auth and X-Registry-Auth carries no credentials: the engine fails \
                 before sending a request, \"no basic auth credentials\" (docker-errors.md §1.4)",
            ),
            Reading::NoMatchingManifest { platform, message } => write!(
                f,
                "the manifest list has no {platform} entry: the pull's progress stream (HTTP 200) ends with \
                 \"{message}\" (moby pullManifestList; docker-errors.md §4(l))"
            ),
            Reading::Translated {
                first,
                status,
                message,
                rule,
            } => write!(
                f,
                "TranslatePullError: the first error, \"{first}\", becomes HTTP {status} \"{message}\" ({rule})"
            ),
        }
    }
}

/// A call of the simulated engine that reached for a host no server answers is not modelled,
/// whatever it made of the failure.
fn unreachable_first<T>(e: &simulated::SimulatedEngine, r: Result<T, DaemonError>) -> Result<T, DaemonError> {
    match e.take_unreachable() {
        Some(n) => Err(DaemonError::Unmodelled(n)),
        None => r,
    }
}

/// Either engine, behind one face.
pub enum Engine {
    Simulated(Box<simulated::SimulatedEngine>),
    Real(real::RealDaemon),
}

impl Engine {
    /// The simulated dockerd of a runner host, dialling names through `network`.
    pub fn simulated(docker: &DockerHost, network: Network, trust: regsim_wire::tls::DaemonTrust) -> Engine {
        Engine::Simulated(Box::new(simulated::SimulatedEngine::new(
            docker.profile.clone(),
            docker.version.clone(),
            docker.platform.clone(),
            network,
            trust,
        )))
    }

    /// The daemon of a `docker:VERSION-dind` service. The real daemon stands in for it in
    /// comparisons (its image store is not empty; the comparison removes what the job creates).
    pub fn dind(&self, version: &semver::Version) -> Result<Engine, regsim_wire::NotModelled> {
        match self {
            Engine::Simulated(e) => Ok(Engine::Simulated(Box::new(e.sibling(version)?))),
            Engine::Real(e) => Ok(Engine::Real(e.dind())),
        }
    }

    /// The simulated host's names and a job image's trust store, for the job's own registry
    /// clients (podman, buildah); `None` for a real daemon, whose job runs the real tools.
    pub fn container_view(&self) -> Option<(Network, regsim_wire::tls::DaemonTrust)> {
        match self {
            Engine::Simulated(e) => Some(e.container_view()),
            Engine::Real(_) => None,
        }
    }

    /// What the simulated daemon noticed that the job log does not show; the real one says nothing.
    pub fn notes(&self) -> Vec<String> {
        match self {
            Engine::Simulated(e) => e.notes(),
            Engine::Real(_) => Vec::new(),
        }
    }

    /// How the engine read the registry's answers and worded its errors (the simulated engine
    /// records it; a real daemon does not tell).
    pub fn trail(&self) -> Vec<Reading> {
        match self {
            Engine::Simulated(e) => e.trail(),
            Engine::Real(_) => Vec::new(),
        }
    }

    /// `POST /images/create?fromImage=…&tag=…` with `X-Registry-Auth`.
    pub async fn create_image(&self, from_image: &str, tag: &str, registry_auth: &str) -> Result<(), DaemonError> {
        match self {
            Engine::Simulated(e) => unreachable_first(e, e.create_image(from_image, tag, registry_auth).await),
            Engine::Real(e) => e.create_image(from_image, tag, registry_auth).await,
        }
    }

    /// `POST /images/create?fromImage=…&tag=…` as the job's `docker pull` makes it: the progress
    /// stream.
    pub async fn pull_image(
        &self,
        from_image: &str,
        tag: &str,
        registry_auth: &str,
    ) -> Result<ProgressStream, DaemonError> {
        match self {
            Engine::Simulated(e) => unreachable_first(e, e.pull_image(from_image, tag, registry_auth).await),
            Engine::Real(e) => e.pull_image(from_image, tag, registry_auth).await,
        }
    }

    /// `GET /images/{name}/json`.
    pub async fn inspect_image(&self, name: &str) -> Result<ImageInspect, DaemonError> {
        match self {
            Engine::Simulated(e) => unreachable_first(e, e.inspect_image(name).await),
            Engine::Real(e) => e.inspect_image(name).await,
        }
    }

    /// `POST /auth`: the status text (`Login Succeeded`) or the daemon's error.
    pub async fn login(&self, username: &str, password: &str, server: &str) -> Result<String, DaemonError> {
        match self {
            Engine::Simulated(e) => unreachable_first(e, e.login(username, password, server).await),
            Engine::Real(e) => e.login(username, password, server).await,
        }
    }

    /// `POST /build?t=TAG` with a context holding only a Dockerfile, and `X-Registry-Config`
    /// (`registry_config`, from [`regsim_wire::engine_api::encode_registry_config`]).
    pub async fn build(
        &self,
        dockerfile: &str,
        tag: &str,
        registry_config: &str,
    ) -> Result<ProgressStream, DaemonError> {
        match self {
            Engine::Simulated(e) => unreachable_first(e, e.build(dockerfile, tag, registry_config).await),
            Engine::Real(e) => e.build(dockerfile, tag, registry_config).await,
        }
    }

    /// `POST /images/{source}/tag?repo=…&tag=…`.
    pub async fn tag_image(&self, source: &str, repo: &str, tag: &str) -> Result<(), DaemonError> {
        match self {
            Engine::Simulated(e) => unreachable_first(e, e.tag_image(source, repo, tag).await),
            Engine::Real(e) => e.tag_image(source, repo, tag).await,
        }
    }

    /// `POST /images/{name}/push?tag=…` with `X-Registry-Auth`.
    pub async fn push_image(&self, name: &str, tag: &str, registry_auth: &str) -> Result<ProgressStream, DaemonError> {
        match self {
            Engine::Simulated(e) => unreachable_first(e, e.push_image(name, tag, registry_auth).await),
            Engine::Real(e) => e.push_image(name, tag, registry_auth).await,
        }
    }
}
