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
