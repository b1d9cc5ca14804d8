//! What crossed the wire, in order: every request the mocks answered and what they said. The
//! report prints it, so a reader sees the exchange the job log was derived from.
//!
//! The journal is a layer around every server ([`Journal::answer`]): a server only answers (its
//! [`Handler`] returns an [`Answer`]), the layer records the exchange and the listener sends the
//! response, as go-containerregistry's registry keeps logging apart from its handlers.
//!
//! It is bounded: it keeps the newest [`Journal::CAPACITY`] exchanges and at most
//! [`Journal::MAX_BYTES`] of answer bodies, dropping the oldest (a job's exchange is a few dozen
//! requests; only `regsim serve` under load ever reaches the bound), and a live listener that
//! falls [`Journal::TAP_BACKLOG`] exchanges behind misses the rest rather than holding them.

use crate::request::{Refusal, Request};
use crate::wire::Wire;
use regsim_wire::NotModelled;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

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
    entries: Arc<Mutex<Entries>>,
    /// Live listeners (`regsim serve` prints each exchange as it happens).
    taps: Arc<Mutex<Vec<tokio::sync::mpsc::Sender<Exchange>>>>,
}

#[derive(Debug, Default)]
struct Entries {
    /// Exchanges kept at most (`Journal::CAPACITY` when 0).
    capacity: usize,
    kept: VecDeque<Exchange>,
    /// Bytes of answer bodies in `kept`.
    bytes: usize,
    /// Exchanges dropped to keep within the bounds, since the last `clear`.
    dropped: u64,
}

impl Journal {
    /// Exchanges kept by default.
    pub const CAPACITY: usize = 10_000;
    /// Answer-body bytes kept.
    pub const MAX_BYTES: usize = 64 * 1024 * 1024;
    /// Exchanges a live listener may fall behind by.
    pub const TAP_BACKLOG: usize = 1024;

    /// A journal that keeps at most `capacity` exchanges (`regsim serve` keeps fewer: it only
    /// traces them).
    pub fn with_capacity(capacity: usize) -> Journal {
        let j = Journal::default();
        j.entries.lock().expect("journal lock").capacity = capacity.max(1);
        j
    }

    pub fn record(&self, e: Exchange) {
        self.taps.lock().expect("journal lock").retain(|t| {
            !matches!(
                t.try_send(e.clone()),
                Err(tokio::sync::mpsc::error::TrySendError::Closed(_))
            )
        });
        let mut entries = self.entries.lock().expect("journal lock");
        entries.bytes += e.response.body.len();
        entries.kept.push_back(e);
        let capacity = if entries.capacity == 0 {
            Self::CAPACITY
        } else {
            entries.capacity
        };
        while entries.kept.len() > capacity || (entries.bytes > Self::MAX_BYTES && entries.kept.len() > 1) {
            if let Some(old) = entries.kept.pop_front() {
                entries.bytes -= old.response.body.len();
                entries.dropped += 1;
            }
        }
    }

    /// Every exchange from now on, as it is recorded.
    pub fn subscribe(&self) -> tokio::sync::mpsc::Receiver<Exchange> {
        let (tx, rx) = tokio::sync::mpsc::channel(Self::TAP_BACKLOG);
        self.taps.lock().expect("journal lock").push(tx);
        rx
    }

    pub fn clear(&self) {
        let mut entries = self.entries.lock().expect("journal lock");
        *entries = Entries {
            capacity: entries.capacity,
            ..Entries::default()
        };
    }

    pub fn entries(&self) -> Vec<Exchange> {
        self.entries
            .lock()
            .expect("journal lock")
            .kept
            .iter()
            .cloned()
            .collect()
    }

    /// How many exchanges were dropped to stay within the bounds since the last `clear`.
    pub fn dropped(&self) -> u64 {
        self.entries.lock().expect("journal lock").dropped
    }

    /// The first behaviour regsim does not model that a server met, with the request that met it.
    pub fn not_modelled(&self) -> Option<(String, NotModelled)> {
        self.entries.lock().expect("journal lock").kept.iter().find_map(|e| {
            e.not_modelled
                .clone()
                .map(|n| (format!("{} {}", e.method, e.target), n))
        })
    }

    /// `handler`'s answer to `req`, recorded.
    pub fn answer(&self, handler: &dyn Handler, req: &Request) -> Answer {
        let answer = handler.answer(req);
        let path = req.url.path();
        let target = match req.url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        let authorization = req.headers.get("authorization").and_then(|v| v.to_str().ok());
        self.record(Exchange {
            server: handler.server(req),
            method: req.method.to_string(),
            target,
            credentials: describe_credentials(authorization),
            status: answer.response.status,
            note: answer.note.clone(),
            rules: answer.rules.clone(),
            request_headers: telling_headers(&req.headers),
            response: answer.response.clone(),
            not_modelled: answer.not_modelled.clone(),
        });
        answer
    }

    /// The listener's own refusal of a request no handler saw, recorded. The body reads as Go's
    /// net/http writes its own refusals (`400 Bad Request: missing required Host header`).
    pub fn refusal(&self, handler: &dyn Handler, r: &Refusal) -> Answer {
        let reason = http::StatusCode::from_u16(r.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let answer = Answer::new(
            Wire::new(r.status).set_body_raw(
                format!("{} {reason}", r.status).into_bytes(),
                "text/plain; charset=utf-8",
            ),
            format!("refused by the listener: {}", r.why),
        );
        let placeholder = Request {
            url: url::Url::parse("http://localhost/").expect("a fixed URL"),
            method: http::Method::GET,
            headers: http::HeaderMap::new(),
            body: Vec::new(),
        };
        self.record(Exchange {
            server: handler.server(&placeholder),
            method: r.method.clone(),
            target: r.target.clone(),
            credentials: String::new(),
            status: r.status,
            note: answer.note.clone(),
            rules: Vec::new(),
            request_headers: Vec::new(),
            response: answer.response.clone(),
            not_modelled: None,
        });
        answer
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
