//! Mock GitLab: `GET /jwt/auth` (the registry's and the Dependency Proxy's token service), `POST
//! /api/v4/jobs/request` (the job a runner picks up) and the Dependency Proxy's `/v2/` routes. Rails answers unknown routes with 404.

pub mod dependency_proxy;
mod jobs;
mod jwt;

pub use jobs::{JobPayload, PayloadCredential, PayloadImage, PayloadService, PayloadVariable, job_payload};

use super::journal::{Exchange, Journal, Rule, describe_credentials, telling_headers};
use super::wire::Wire;
use crate::world::World;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use wiremock::{Request, Respond, ResponseTemplate};

pub struct GitlabResponder {
    world: Arc<World>,
    journal: Journal,
    /// Issued tokens so far, for deterministic `jti`s.
    issued: AtomicU64,
    /// The scenario has one job; once picked, the queue is empty.
    /// The scenario has one job; once picked, the queue is empty (until `Stage::requeue_job`).
    job_taken: Arc<AtomicBool>,
    /// Docker Hub, for the Dependency Proxy.
    upstream: Option<dependency_proxy::Upstream>,
    proxy_cache: dependency_proxy::SharedCache,
}

impl GitlabResponder {
    pub fn new(
        world: Arc<World>,
        journal: Journal,
        job_taken: Arc<AtomicBool>,
        upstream: Option<std::net::SocketAddr>,
        proxy_cache: dependency_proxy::SharedCache,
    ) -> Self {
        GitlabResponder {
            world,
            journal,
            issued: AtomicU64::new(0),
            job_taken,
            upstream: upstream.map(dependency_proxy::Upstream::new),
            proxy_cache,
        }
    }
}

/// A response plus what the journal keeps about it.
pub(crate) struct Answer {
    pub response: Wire,
    pub note: String,
    /// The decisions behind the answer (`Exchange::rules`).
    pub rules: Vec<Rule>,
}

impl Answer {
    pub fn new(response: Wire, note: impl Into<String>) -> Self {
        Answer {
            response,
            note: note.into(),
            rules: Vec::new(),
        }
    }

    pub fn with_rules(mut self, rules: Vec<Rule>) -> Self {
        self.rules = rules;
        self
    }
}

pub(crate) fn json(status: u16, body: &serde_json::Value, note: impl Into<String>) -> Answer {
    Answer::new(
        Wire::new(status).set_body_raw(body.to_string().into_bytes(), "application/json; charset=utf-8"),
        note,
    )
}

impl Respond for GitlabResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        // Rails routes HEAD to the GET actions.
        let method = match req.method.as_str() {
            "HEAD" => "GET",
            m => m,
        };
        let answer = match (method, path) {
            ("GET", "/jwt/auth") => jwt::auth(&self.world, req, &self.issued),
            ("POST", "/api/v4/jobs/request") => jobs::request(&self.world, req, &self.job_taken),
            ("GET", "/v2" | "/v2/") => dependency_proxy::ping(&self.world, req),
            ("GET", p) if dependency_proxy::parse(p).is_some() => {
                let pr = dependency_proxy::parse(p).expect("just parsed");
                dependency_proxy::serve(&self.world, req, &pr, self.upstream.as_ref(), &self.proxy_cache)
            }
            _ => Answer::new(Wire::new(404), "no such route"),
        };
        let target = match req.url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        let auth = req.headers.get("authorization").and_then(|v| v.to_str().ok());
        self.journal.record(Exchange {
            server: "gitlab".into(),
            method: req.method.to_string(),
            target,
            credentials: describe_credentials(auth),
            status: answer.response.status,
            note: answer.note,
            rules: answer.rules,
            request_headers: telling_headers(&req.headers),
            response: answer.response.clone(),
        });
        answer.response.template()
    }
}
