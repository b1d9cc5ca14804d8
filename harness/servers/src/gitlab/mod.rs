//! Mock GitLab: `GET /jwt/auth` (the registry's and the Dependency Proxy's token service), `POST
//! /api/v4/jobs/request` (the job a runner picks up) and the Dependency Proxy's `/v2/` routes.
//! Rails answers unknown routes with 404. GitLab is the world's authority, so its server is built
//! from the whole world.

pub mod dependency_proxy;
mod jobs;
mod jwt;

pub use jobs::job_payload;

use crate::journal::{Answer, Handler, Rule, Verdict};
use crate::request::Request;
use crate::settings::Settings;
use crate::wire::Wire;
use regsim_model::policy;
use regsim_model::world::World;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

pub struct GitlabServer {
    world: Arc<World>,
    /// Issued tokens so far, for deterministic `jti`s.
    issued: AtomicU64,
    /// The scenario has one job; once picked, the queue is empty (until `Stage::requeue_job`).
    job_taken: Arc<AtomicBool>,
    /// Docker Hub, for the Dependency Proxy.
    upstream: Option<dependency_proxy::Upstream>,
    proxy_cache: dependency_proxy::SharedCache,
    settings: Settings,
}

impl GitlabServer {
    pub fn new(
        world: Arc<World>,
        job_taken: Arc<AtomicBool>,
        upstream: Option<dependency_proxy::Upstream>,
        proxy_cache: dependency_proxy::SharedCache,
        settings: Settings,
    ) -> Self {
        GitlabServer {
            world,
            issued: AtomicU64::new(0),
            job_taken,
            upstream,
            proxy_cache,
            settings,
        }
    }
}

/// `policy::authenticate`'s answer as a rule.
pub(crate) fn authenticated(auth: &policy::Authenticated) -> Rule {
    Rule::new(Verdict::Authenticated, "", auth.because.as_str())
}

impl Handler for GitlabServer {
    fn server(&self, _: &Request) -> String {
        "gitlab".into()
    }

    fn answer(&self, req: &Request) -> Answer {
        let path = req.url.path();
        // Rails routes HEAD to the GET actions.
        let method = match req.method.as_str() {
            "HEAD" => "GET",
            m => m,
        };
        match (method, path) {
            ("GET", "/jwt/auth") => jwt::auth(&self.world, req, &self.issued, &self.settings),
            ("POST", "/api/v4/jobs/request") => jobs::request(&self.world, req, &self.job_taken),
            ("GET", "/v2" | "/v2/") => dependency_proxy::ping(&self.world, req, &self.settings),
            ("GET", p) => match dependency_proxy::parse(p) {
                Some(pr) => {
                    let proxy = dependency_proxy::Proxy {
                        upstream: self.upstream.as_ref(),
                        cache: &self.proxy_cache,
                        settings: &self.settings,
                    };
                    dependency_proxy::serve(&self.world, req, &pr, &proxy)
                }
                None => Answer::new(Wire::new(404), "no such route"),
            },
            _ => Answer::new(Wire::new(404), "no such route"),
        }
    }
}
