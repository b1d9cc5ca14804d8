//! A stage's servers by the scenario's own names, for a real dockerd in a network namespace of
//! the test's own ([`crate::netns`]): each server also listens inside the namespace on its host's
//! address and its own port (443 when none is written), over TLS with the certificate it serves
//! on loopback, answering with the same handler. When GitLab and its registry share a host and
//! port, one listener routes `/v2/` to the registry and the rest to GitLab, as Omnibus' nginx
//! does.

use crate::journal::{Answer, Handler};
use crate::listen::{Listener, Shared};
use crate::netns::{Namespace, NetnsError};
use crate::request::Request;
use crate::tls::ServerTls;
use crate::{Stage, pki};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Handlers behind one address, by path prefix (the longest that matches answers).
struct Front {
    routes: Vec<(&'static str, Shared)>,
}

impl Front {
    fn pick(&self, req: &Request) -> Arc<dyn Handler> {
        let path = req.url.path();
        let (_, shared) = self
            .routes
            .iter()
            .filter(|(p, _)| path.starts_with(p))
            .max_by_key(|(p, _)| p.len())
            .unwrap_or(&self.routes[0]);
        shared.read().expect("handler lock").clone()
    }
}

impl Handler for Front {
    fn server(&self, req: &Request) -> String {
        self.pick(req).server(req)
    }
    fn answer(&self, req: &Request) -> Answer {
        self.pick(req).answer(req)
    }
}

/// Why the servers could not be put into the namespace.
#[derive(Debug, thiserror::Error)]
pub enum ByNameError {
    #[error("{0}")]
    Namespace(#[from] NetnsError),
    #[error("no address in the namespace for {0}")]
    NoAddress(String),
    #[error("cannot listen on {addr} in the namespace: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

impl Stage {
    /// Listeners inside `ns` for each of the world's named servers, at `address(host)` and the
    /// server's port. Dropping them stops them (the next scenario may bind the same address).
    pub fn serve_by_name(
        &self,
        ns: &Namespace,
        address: impl Fn(&str) -> Option<Ipv4Addr>,
    ) -> Result<Vec<Listener>, ByNameError> {
        let world = &self.world;
        let plain: Vec<&Listener> = [&self.gitlab, &self.registry].into_iter().chain(&self.others).collect();
        // (address, prefix, handler, TLS) per server, in pki::servers order.
        let mut wanted: Vec<(SocketAddr, &'static str, Shared, Option<ServerTls>)> = Vec::new();
        for (i, (authority, certificate)) in pki::servers(world).into_iter().enumerate() {
            let ip = address(&authority.host).ok_or_else(|| ByNameError::NoAddress(authority.host.clone()))?;
            let default = if certificate.is_tls() { 443 } else { 80 };
            let addr = SocketAddr::from((ip, authority.port_or(default)));
            let prefix = if i == 1 { "/v2/" } else { "/" };
            let tls = self.tls.get(i).and_then(|t| t.as_ref()).and_then(|l| l.tls().cloned());
            wanted.push((addr, prefix, plain[i].handler(), tls));
        }
        // Docker Hub's two names, for the runner host's own pulls.
        if let Some(direct) = &self.docker_hub_direct {
            for host in [crate::docker_hub::REGISTRY_HOST, crate::docker_hub::AUTH_HOST] {
                let ip = address(host).ok_or_else(|| ByNameError::NoAddress(host.to_string()))?;
                wanted.push((
                    SocketAddr::from((ip, 443)),
                    "/",
                    direct.handler(),
                    direct.tls().cloned(),
                ));
            }
        }
        let mut listeners = Vec::new();
        let mut done: Vec<SocketAddr> = Vec::new();
        for (addr, _, _, tls) in &wanted {
            if done.contains(addr) {
                continue;
            }
            done.push(*addr);
            let routes: Vec<(&'static str, Shared)> = wanted
                .iter()
                .filter(|(a, ..)| a == addr)
                .map(|(_, p, h, _)| (*p, h.clone()))
                .collect();
            let handler: Shared = if routes.len() == 1 {
                routes[0].1.clone()
            } else {
                Arc::new(std::sync::RwLock::new(Arc::new(Front { routes }) as Arc<dyn Handler>))
            };
            let bound = bind_retrying(ns, *addr)?;
            let limits = self.settings.limits;
            let listener = match tls {
                Some(tls) => Listener::start_tls_beside(bound, handler, self.journal.clone(), limits, tls.clone()),
                None => Listener::start_beside(bound, handler, self.journal.clone(), limits),
            }
            .map_err(|source| ByNameError::Listen { addr: *addr, source })?;
            listeners.push(listener);
        }
        Ok(listeners)
    }
}

/// The previous scenario's listener on the same address may still be closing.
fn bind_retrying(ns: &Namespace, addr: SocketAddr) -> Result<std::net::TcpListener, ByNameError> {
    let start = Instant::now();
    loop {
        match ns.bind(addr) {
            Ok(l) => return Ok(l),
            Err(e) if start.elapsed() > Duration::from_secs(5) => return Err(e.into()),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
