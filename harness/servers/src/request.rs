//! A request as the servers see it: read whole by the listener (`listen`), or refused by it
//! before any handler saw it.

/// A request as a server's handler sees it: whole, with its body read.
#[derive(Debug, Clone)]
pub struct Request {
    /// `http://localhost/PATH?QUERY` for an origin-form target (the host is not the client's;
    /// `https://` when the request came over TLS).
    pub url: url::Url,
    pub method: http::Method,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

/// A request the listener refused before any handler saw it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub method: String,
    /// The target as sent.
    pub target: String,
    pub status: u16,
    pub why: String,
}
