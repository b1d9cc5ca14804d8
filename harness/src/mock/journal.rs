//! What crossed the wire, in order: every request the mocks answered and what they said. The
//! report prints it, so a reader sees the exchange the job log was derived from.

use serde::Serialize;
use std::sync::{Arc, Mutex};

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
    pub response: super::wire::Wire,
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
