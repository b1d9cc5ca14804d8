//! The mock servers: GitLab (token service and the runner API) and its container registry, each a
//! real HTTP server on 127.0.0.1 built on wiremock with one `Respond` per server. Handlers
//! translate between HTTP and the world model; the decisions live in `policy`.

pub mod errcode;
pub mod gitlab;
pub mod image;
pub mod journal;
pub mod registry;

use crate::world::World;
use journal::Journal;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use wiremock::{Mock, MockServer, matchers::any};

/// Where the mocks answer for the names a scenario uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The scenario's own host names (`gitlab.example.com`, `registry.example.com:5050`); the
    /// simulated engine dials the mocks through a name table, as if DNS pointed there.
    Named,
    /// Everything on `127.0.0.1:PORT`, so a real Docker daemon can pull too.
    Loopback,
}

/// Host names → the mocks' listening addresses.
#[derive(Debug, Clone, Default)]
pub struct Network {
    routes: HashMap<String, SocketAddr>,
}

impl Network {
    /// `host:port` (port explicit) → address.
    pub fn resolve(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.routes
            .get(&format!("{}:{port}", host.to_ascii_lowercase()))
            .copied()
    }
    fn add(&mut self, host: &str, port: u16, addr: SocketAddr) {
        self.routes
            .insert(format!("{}:{port}", host.to_ascii_lowercase()), addr);
    }
}

/// One scenario's running mocks.
pub struct Stage {
    /// The world as the mocks see it (moved to loopback for `Placement::Loopback`).
    pub world: Arc<World>,
    pub gitlab: MockServer,
    pub registry: MockServer,
    pub journal: Journal,
    pub network: Network,
}

impl Stage {
    pub async fn start(world: &World, placement: Placement) -> Stage {
        let gitlab = MockServer::builder().start().await;
        let registry = MockServer::builder().start().await;
        let world = Arc::new(match placement {
            Placement::Named => world.clone(),
            Placement::Loopback => world.on_loopback(*gitlab.address(), *registry.address()),
        });
        let mut network = Network::default();
        let gl = &world.gitlab;
        let gl_default = if gl.scheme == "https" { 443 } else { 80 };
        network.add(
            &gl.host.host,
            gl.host.port_or(gl_default),
            *gitlab.address(),
        );
        // A registry written without a port is dialled on 443 (https) or, for insecure loopback
        // registries, 80.
        let reg = &gl.registry;
        network.add(&reg.host, reg.port_or(443), *registry.address());
        network.add(&reg.host, reg.port_or(80), *registry.address());

        let journal = Journal::default();
        Mock::given(any())
            .respond_with(gitlab::GitlabResponder::new(world.clone(), journal.clone()))
            .mount(&gitlab)
            .await;
        Mock::given(any())
            .respond_with(registry::RegistryResponder::new(
                world.clone(),
                journal.clone(),
            ))
            .mount(&registry)
            .await;
        Stage {
            world,
            gitlab,
            registry,
            journal,
            network,
        }
    }
}
