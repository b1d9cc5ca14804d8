//! A mock's response as it goes on the wire, kept readable: wiremock's `ResponseTemplate` does
//! not let anyone read back what it will send, and `regsim explain` shows each answer's headers
//! and body. Handlers build a `Wire` with the same calls and hand wiremock its template.

use serde::Serialize;
use wiremock::ResponseTemplate;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Wire {
    pub status: u16,
    /// In the order set; a header set twice keeps its last value, as `insert_header` does.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Wire {
    pub fn new(status: u16) -> Self {
        Wire {
            status,
            ..Default::default()
        }
    }

    pub fn insert_header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.as_ref().to_string()));
        self
    }

    /// The body and its `Content-Type`, as `ResponseTemplate::set_body_raw`.
    pub fn set_body_raw(self, body: impl Into<Vec<u8>>, mime: &str) -> Self {
        let mut w = self.insert_header("Content-Type", mime);
        w.body = body.into();
        w
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn template(&self) -> ResponseTemplate {
        let mut t = ResponseTemplate::new(self.status);
        let mut mime = None;
        for (n, v) in &self.headers {
            if n.eq_ignore_ascii_case("content-type") {
                mime = Some(v.as_str());
            } else {
                t = t.insert_header(n.as_str(), v.as_str());
            }
        }
        // A Content-Type without a body (a HEAD's headers) stays a plain header.
        match mime {
            Some(m) if !self.body.is_empty() => t.set_body_raw(self.body.clone(), m),
            Some(m) => t.insert_header("Content-Type", m),
            None if !self.body.is_empty() => t.set_body_bytes(self.body.clone()),
            None => t,
        }
    }
}
