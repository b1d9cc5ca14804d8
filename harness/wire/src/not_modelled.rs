//! The one way regsim says it does not know: a reason, carried from wherever it was met (a
//! scenario the loader refuses, a mock server's answer, the simulated engine, the runner) to the
//! run's result, which then prints no log instead of an invented one.

use std::fmt;

/// Behaviour regsim does not model, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(transparent)]
pub struct NotModelled {
    pub reason: String,
}

impl NotModelled {
    /// How a note about it begins in text (the journal, a run's error).
    pub const PREFIX: &'static str = "NOT MODELLED:";

    pub fn new(reason: impl Into<String>) -> Self {
        NotModelled { reason: reason.into() }
    }
}

impl From<String> for NotModelled {
    fn from(reason: String) -> Self {
        NotModelled { reason }
    }
}

impl From<&str> for NotModelled {
    fn from(reason: &str) -> Self {
        NotModelled::new(reason)
    }
}

impl fmt::Display for NotModelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", Self::PREFIX, self.reason)
    }
}
