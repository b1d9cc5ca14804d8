//! A mock's response as it goes on the wire, kept readable: `regsim explain` shows each answer's
//! headers and body, and the listener sends exactly this.

use serde::Serialize;

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
}
