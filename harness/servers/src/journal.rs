//! What crossed the wire, in order: every request the mocks answered and what they said. The
//! report prints it, so a reader sees the exchange the job log was derived from.
//!
//! The journal is a layer around every server ([`Journaled`]): a server only answers (its
//! [`Handler`] returns an [`Answer`]), the layer records the exchange and hands wiremock the
//! response, as go-containerregistry's registry keeps logging apart from its handlers.

use crate::wire::Wire;
use regsim_wire::NotModelled;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use wiremock::{Request, Respond, ResponseTemplate};

/// A server's answer to one request, and what the journal keeps about it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub response: Wire,
    /// What the answer meant, in the server's own terms.
    pub note: String,
    /// The decisions behind the answer (`Exchange::rules`).
    pub rules: Vec<Rule>,
    /// Set when answering needed behaviour regsim does not model: the run stops with it.
    pub not_modelled: Option<NotModelled>,
}

impl Answer {
    pub fn new(response: Wire, note: impl Into<String>) -> Self {
        Answer {
            response,
            note: note.into(),
            rules: Vec::new(),
            not_modelled: None,
        }
    }

    /// A 500 that stands for behaviour regsim does not model; the note says so.
    pub fn not_modelled(reason: impl Into<String>) -> Self {
        let n = NotModelled::new(reason);
        Answer {
            response: Wire::new(500),
            note: n.to_string(),
            rules: Vec::new(),
            not_modelled: Some(n),
        }
    }

    pub fn with_rules(mut self, rules: Vec<Rule>) -> Self {
        self.rules = rules;
        self
    }

    /// A JSON body (`application/json; charset=utf-8`, as Rails writes it).
    pub fn json(status: u16, body: &serde_json::Value, note: impl Into<String>) -> Self {
        Answer::new(
            Wire::new(status).set_body_raw(body.to_string().into_bytes(), "application/json; charset=utf-8"),
            note,
        )
    }
}

/// A server: what it is called in the journal, and its answer to a request.
pub trait Handler: Send + Sync + 'static {
    /// `gitlab`, `registry` (GitLab's), a registry's host, Docker Hub's host for the request.
    fn server(&self, req: &Request) -> String;
    fn answer(&self, req: &Request) -> Answer;
}

/// A server wrapped in the journal: every answer is recorded, then sent.
pub struct Journaled<H> {
    pub handler: H,
    pub journal: Journal,
}

impl<H: Handler> Respond for Journaled<H> {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let answer = self.handler.answer(req);
        let path = req.url.path();
        let target = match req.url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        let authorization = req.headers.get("authorization").and_then(|v| v.to_str().ok());
        let template = answer.response.template();
        self.journal.record(Exchange {
            server: self.handler.server(req),
            method: req.method.to_string(),
            target,
            credentials: describe_credentials(authorization),
            status: answer.response.status,
            note: answer.note,
            rules: answer.rules,
            request_headers: telling_headers(&req.headers),
            response: answer.response,
            not_modelled: answer.not_modelled,
        });
        template
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Exchange {
    /// `gitlab`, `registry` (GitLab's) or the host of another registry.
    pub server: String,
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// `Basic gitlab-ci-token`, `Bearer`, or empty: who the request claimed to be.
    pub credentials: String,
    pub status: u16,
    /// What the answer meant, in the server's own terms (granted access, challenge error …).
    pub note: String,
    /// The decisions behind the answer, as `policy` took them (the token service's
    /// authentication and each requested action, the Dependency Proxy's token and group
    /// access); empty where the server decided nothing GitLab's policy says.
    pub rules: Vec<Rule>,
    /// The request headers that decide the answer (see `telling_headers`).
    pub request_headers: Vec<(String, String)>,
    /// The answer as sent: status, headers, body.
    pub response: Wire,
    /// Behaviour regsim does not model that this answer needed (the run stops with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_modelled: Option<NotModelled>,
}

/// One decision behind an answer: what was decided and `policy`'s reason, in GitLab's words.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rule {
    pub verdict: Verdict,
    /// What was decided: `pull your/project/image`, `registry:catalog:*`, `the proxy token` …
    pub what: String,
    pub because: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The credentials name an identity.
    Authenticated,
    /// The credentials name nobody: 401.
    NotAuthenticated,
    /// A requested action (or the token itself) is granted.
    Granted,
    /// A requested action is left out of the token; the token is still issued.
    Dropped,
    /// The service refuses outright: no token, or no access to the resource.
    Refused,
}

impl Verdict {
    /// Whether this decision said no.
    pub fn is_no(self) -> bool {
        matches!(self, Verdict::NotAuthenticated | Verdict::Dropped | Verdict::Refused)
    }
}

impl Rule {
    pub fn new(verdict: Verdict, what: impl Into<String>, because: impl Into<String>) -> Self {
        Rule {
            verdict,
            what: what.into(),
            because: because.into(),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = match self.verdict {
            Verdict::Authenticated => "authenticated",
            Verdict::NotAuthenticated => "not authenticated",
            Verdict::Granted => "granted",
            Verdict::Dropped => "dropped",
            Verdict::Refused => "refused",
        };
        if self.what.is_empty() {
            write!(f, "{verdict}: {}", self.because)
        } else {
            write!(f, "{verdict} {}: {}", self.what, self.because)
        }
    }
}

/// The request headers that change what a mock answers: who is asking and what they accept.
/// A Basic password is masked; a bearer token is kept whole, it is the scenario's own test-key
/// JWT and `regsim explain` decodes it.
pub fn telling_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in ["authorization", "accept", "content-type"] {
        let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if values.is_empty() {
            continue;
        }
        let value = match name {
            "authorization" => mask_basic(values[0]),
            _ => values.join(", "),
        };
        out.push((name.to_string(), value));
    }
    out
}

fn mask_basic(h: &str) -> String {
    match describe_credentials(Some(h)) {
        d if d.starts_with("Basic ") && d != "Basic (undecodable)" => format!("{d}:•••"),
        _ => h.to_string(),
    }
}

#[derive(Debug, Clone, Default)]
pub struct Journal {
    entries: Arc<Mutex<Vec<Exchange>>>,
    /// Live listeners (`regsim serve` prints each exchange as it happens).
    taps: Arc<Mutex<Vec<tokio::sync::mpsc::UnboundedSender<Exchange>>>>,
}

impl Journal {
    pub fn record(&self, e: Exchange) {
        self.taps
            .lock()
            .expect("journal lock")
            .retain(|t| t.send(e.clone()).is_ok());
        self.entries.lock().expect("journal lock").push(e);
    }
    /// Every exchange from now on, as it is recorded.
    pub fn subscribe(&self) -> tokio::sync::mpsc::UnboundedReceiver<Exchange> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.taps.lock().expect("journal lock").push(tx);
        rx
    }
    pub fn clear(&self) {
        self.entries.lock().expect("journal lock").clear();
    }
    pub fn entries(&self) -> Vec<Exchange> {
        self.entries.lock().expect("journal lock").clone()
    }
    /// The first behaviour regsim does not model that a server met, with the request that met it.
    pub fn not_modelled(&self) -> Option<(String, NotModelled)> {
        self.entries.lock().expect("journal lock").iter().find_map(|e| {
            e.not_modelled
                .clone()
                .map(|n| (format!("{} {}", e.method, e.target), n))
        })
    }
}

/// `Basic <login>` (never the password) or `Bearer`, from an Authorization header.
pub fn describe_credentials(authorization: Option<&str>) -> String {
    use base64::Engine as _;
    match authorization {
        None => String::new(),
        Some(h) if h.len() > 6 && h[..6].eq_ignore_ascii_case("basic ") => {
            match base64::engine::general_purpose::STANDARD.decode(h[6..].trim()) {
                Ok(raw) => {
                    let s = String::from_utf8_lossy(&raw);
                    format!("Basic {}", s.split(':').next().unwrap_or(""))
                }
                Err(_) => "Basic (undecodable)".into(),
            }
        }
        Some(h) if h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ") => "Bearer".into(),
        Some(_) => "(other)".into(),
    }
}
