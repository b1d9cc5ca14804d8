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
}

#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Exchange>>>);

impl Journal {
    pub fn record(&self, e: Exchange) {
        self.0.lock().expect("journal lock").push(e);
    }
    pub fn clear(&self) {
        self.0.lock().expect("journal lock").clear();
    }
    pub fn entries(&self) -> Vec<Exchange> {
        self.0.lock().expect("journal lock").clone()
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
