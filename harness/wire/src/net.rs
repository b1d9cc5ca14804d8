//! Where a client dials a name: the table that stands in for DNS while the mocks answer for a
//! scenario's own host names. The servers' stage writes it; clients only read it.

use std::collections::HashMap;
use std::net::SocketAddr;

/// Host names → the listening addresses behind them. When GitLab and its registry share a host
/// and port, a front proxy sends `/v2/` to the registry and everything else to GitLab, as
/// Omnibus' nginx does; the longest matching path prefix picks the server.
#[derive(Debug, Clone, Default)]
pub struct Network {
    routes: HashMap<String, Vec<(&'static str, SocketAddr)>>,
}

impl Network {
    /// `host:port` (port explicit) and request path → address.
    pub fn resolve(&self, host: &str, port: u16, path: &str) -> Option<SocketAddr> {
        let routes = self.routes.get(&format!("{}:{port}", host.to_ascii_lowercase()))?;
        routes
            .iter()
            .filter(|(prefix, _)| path.starts_with(prefix))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, a)| *a)
    }

    /// Requests for `host:port` under `prefix` go to `addr` (the first route for a prefix stays).
    pub fn add(&mut self, host: &str, port: u16, prefix: &'static str, addr: SocketAddr) {
        let routes = self
            .routes
            .entry(format!("{}:{port}", host.to_ascii_lowercase()))
            .or_default();
        if !routes.iter().any(|(p, _)| *p == prefix) {
            routes.push((prefix, addr));
        }
    }
}
