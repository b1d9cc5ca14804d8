//! One scenario's running mocks: each server started on its own loopback port, the name table
//! clients dial through, the journal they all write, and the state a job run leaves behind.

use crate::listen::Listener;
use crate::settings::Settings;
use crate::{docker_hub, gitlab, journal, registry};
use journal::Journal;
use regsim_model::world::World;
use regsim_wire::net::Network;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where the mocks answer for the names a scenario uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The scenario's own host names (`gitlab.example.com`, `registry.example.com:5050`); the
    /// simulated engine dials the mocks through a name table, as if DNS pointed there.
    Named,
    /// Everything on `127.0.0.1:PORT`, so a real Docker daemon can pull too.
    Loopback,
    /// Like `Loopback`, but GitLab's registry is named by this address, where something else
    /// listens: the job's image names and the runner's credentials point there, and the mock
    /// registry answers only what is forwarded to it. The conformance suite puts a forwarder
    /// there and switches it from the mock registry to distribution 2.8.2 between two runs.
    LoopbackWithRegistryAt(SocketAddr),
    /// The scenario's own host names, each server on its HTTPS listener's port (or its plain
    /// one's, for plain HTTP): `regsim serve --tls`, for a Docker that resolves the names to
    /// the listening address.
    NamedOnPorts,
}

/// The world as `placement` moves it; `ports` are each server's dialled port (GitLab, its
/// registry, the others), for `NamedOnPorts`.
fn placed(
    world: &World,
    placement: Placement,
    loopback: (SocketAddr, SocketAddr, Vec<SocketAddr>),
    ports: &[u16],
) -> World {
    match placement {
        Placement::Named => world.clone(),
        Placement::Loopback | Placement::LoopbackWithRegistryAt(_) => {
            world.on_loopback(loopback.0, loopback.1, &loopback.2)
        }
        Placement::NamedOnPorts => world.on_ports(ports[0], ports[1], &ports[2..]),
    }
}

/// One scenario's running mocks.
pub struct Stage {
    /// The world as the mocks see it (moved to loopback for `Placement::Loopback`).
    pub world: Arc<World>,
    pub gitlab: Listener,
    pub registry: Listener,
    /// One per `world.registries`, in order.
    pub others: Vec<Listener>,
    pub journal: Journal,
    pub network: Network,
    job_taken: Arc<AtomicBool>,
    /// What clients pushed, per registry (GitLab's first, then `others`).
    pushed: Vec<registry::PushStore>,
    /// Docker Hub (the Dependency Proxy's upstream), when the scenario has one.
    pub docker_hub: Option<Listener>,
    pub docker_hub_rate: docker_hub::RateState,
    proxy_cache: gitlab::dependency_proxy::SharedCache,
    /// Limits, clock and keys the servers were started with (a reload keeps them).
    pub settings: Settings,
    /// Over HTTPS, beside GitLab, its registry and each other registry (in that order) whose
    /// certificate is not plain HTTP: the same handler as the plain listener, which the runner's
    /// job requests keep using.
    pub tls: Vec<Option<Listener>>,
    /// What the runner host's dockerd trusts, as the certificates the servers got.
    pub trust: regsim_wire::tls::DaemonTrust,
    /// The authorities that issued the servers' certificates.
    pub pki: Arc<crate::pki::Pki>,
    /// Docker Hub over HTTPS for the runner host's own pulls (`registry-1.docker.io`,
    /// `auth.docker.io`), with a rate counter of its own: Docker Hub counts per address, and
    /// the runner host's is not GitLab's.
    pub docker_hub_direct: Option<Listener>,
    pub docker_hub_direct_rate: docker_hub::RateState,
}

/// A listening socket on a free port of `ip`.
fn bind_free(ip: std::net::IpAddr) -> Result<std::net::TcpListener, StageError> {
    std::net::TcpListener::bind((ip, 0)).map_err(|source| StageError::Listen { ip, port: 0, source })
}

/// Where the engine dials each server: its HTTPS listener when it has one.
fn dialled(plain: &Listener, tls: Option<&Option<Listener>>) -> SocketAddr {
    match tls {
        Some(Some(t)) => *t.address(),
        _ => *plain.address(),
    }
}

/// What `start_tls` makes: the HTTPS listeners (in `pki::servers` order), the daemon trust the
/// scenario describes, and the authorities that issued the certificates.
struct Https {
    listeners: Vec<Option<Listener>>,
    trust: regsim_wire::tls::DaemonTrust,
    pki: Arc<crate::pki::Pki>,
}

/// Certificates for the world's servers and an HTTPS listener beside each plain one that has a
/// certificate (`plain` in the order of `pki::servers`), on free ports of `ip`.
fn start_tls(
    world: &World,
    plain: &[&Listener],
    ip: std::net::IpAddr,
    journal: &Journal,
    limits: crate::listen::Limits,
    pki: Option<Arc<crate::pki::Pki>>,
) -> Result<Https, StageError> {
    let pki = match pki {
        Some(p) => p,
        None => Arc::new(crate::pki::Pki::at(world.clock).map_err(StageError::Tls)?),
    };
    let mut issued = Vec::new();
    for (authority, certificate) in crate::pki::servers(world) {
        issued.push(pki.issue(certificate, &authority.host).map_err(StageError::Tls)?);
    }
    let mut listeners = Vec::new();
    for (server, leaf) in plain.iter().zip(&issued) {
        listeners.push(match leaf {
            None => None,
            Some(leaf) => {
                let tls = leaf.server_tls().map_err(StageError::Tls)?;
                let bound = bind_free(ip)?;
                Some(
                    Listener::start_tls_beside(bound, server.handler(), journal.clone(), limits, tls)
                        .map_err(|source| StageError::Listen { ip, port: 0, source })?,
                )
            }
        });
    }
    let trust = crate::pki::daemon_trust(&pki, world, &issued);
    Ok(Https { listeners, trust, pki })
}

/// Where each of the world's names is dialled: GitLab's host, the registry's, the others', and
/// Docker Hub's two names for the runner host's own pulls (`hub`).
fn network_for(
    world: &World,
    gitlab: &Listener,
    tls: &[Option<Listener>],
    registry: SocketAddr,
    others: &[Listener],
    hub: Option<&Listener>,
) -> Network {
    let mut network = Network::default();
    let gl = &world.gitlab;
    let gl_default = if gl.scheme == "https" { 443 } else { 80 };
    network.add(
        &gl.host.host,
        gl.host.port_or(gl_default),
        "/",
        dialled(gitlab, tls.first()),
    );
    let registry = match tls.get(1) {
        Some(Some(t)) => *t.address(),
        _ => registry,
    };
    // A registry written without a port is dialled on 443 (https) or, for insecure loopback
    // registries, 80.
    let reg = &gl.registry;
    network.add(&reg.host, reg.port_or(443), "/v2/", registry);
    network.add(&reg.host, reg.port_or(80), "/v2/", registry);
    for (i, (r, server)) in world.registries.iter().zip(others).enumerate() {
        let address = dialled(server, tls.get(i + 2));
        network.add(&r.host.host, r.host.port_or(443), "/", address);
        network.add(&r.host.host, r.host.port_or(80), "/", address);
    }
    if let Some(hub) = hub {
        for host in [docker_hub::REGISTRY_HOST, docker_hub::AUTH_HOST] {
            network.add(host, 443, "/", *hub.address());
        }
    }
    network
}

impl Stage {
    /// The mocks on free loopback ports.
    pub async fn start(world: &World, placement: Placement) -> Result<Stage, StageError> {
        Self::start_at(world, placement, None, Settings::default()).await
    }

    /// Like `start`, but with `at = Some((ip, port))` the registry listens on `ip:port`, GitLab on
    /// `port + 1` and the other registries on the ports after; port 0 means free ports of `ip`
    /// (for `regsim serve --listen`).
    pub async fn start_at(
        world: &World,
        placement: Placement,
        at: Option<(std::net::IpAddr, u16)>,
        settings: Settings,
    ) -> Result<Stage, StageError> {
        Self::start_with_pki(world, placement, at, settings, None).await
    }

    /// Like `start_at`, with certificates from `pki` (made by the caller, e.g. valid at the
    /// machine's time for a real client, shared by many stages) instead of authorities of the
    /// stage's own made at the scenario's clock.
    pub async fn start_with_pki(
        world: &World,
        placement: Placement,
        at: Option<(std::net::IpAddr, u16)>,
        settings: Settings,
        pki: Option<Arc<crate::pki::Pki>>,
    ) -> Result<Stage, StageError> {
        let limits = settings.limits;
        // The i-th server listens on `ip:port+i`, or on a free port of `ip` when the port is 0;
        // without `at`, on a free port of 127.0.0.1. Each answers a placeholder until `mount`.
        let mut index = 0u16;
        let journal = Journal::with_capacity(settings.journal_capacity);
        let mut server = || {
            let (ip, port) = match at {
                Some((ip, 0)) => (ip, 0),
                Some((ip, base)) => (ip, base.saturating_add(index)),
                None => (std::net::IpAddr::from([127, 0, 0, 1]), 0),
            };
            index += 1;
            let bound =
                std::net::TcpListener::bind((ip, port)).map_err(|source| StageError::Listen { ip, port, source })?;
            Listener::start(bound, Arc::new(Unmounted), journal.clone(), limits).map_err(|source| StageError::Listen {
                ip,
                port,
                source,
            })
        };
        let registry = server()?;
        let gitlab = server()?;
        let mut others = Vec::new();
        for _ in &world.registries {
            others.push(server()?);
        }
        let registry_addr = match placement {
            Placement::LoopbackWithRegistryAt(a) => a,
            _ => *registry.address(),
        };
        let loopback = (
            *gitlab.address(),
            registry_addr,
            others.iter().map(|o| *o.address()).collect::<Vec<_>>(),
        );
        // Certificates are issued for the names before any move (a move keeps the names).
        let before = placed(world, placement, loopback.clone(), &vec![0; 2 + others.len()]);
        let plain: Vec<&Listener> = [&gitlab, &registry].into_iter().chain(&others).collect();
        let ip = at.map_or(std::net::IpAddr::from([127, 0, 0, 1]), |(ip, _)| ip);
        let Https {
            listeners: tls,
            trust,
            pki,
        } = start_tls(&before, &plain, ip, &journal, limits, pki)?;
        let ports: Vec<u16> = plain
            .iter()
            .zip(tls.iter().chain(std::iter::repeat(&None)))
            .map(|(p, t)| dialled(p, Some(t)).port())
            .collect();
        let world = Arc::new(placed(world, placement, loopback, &ports));
        let docker_hub = match &world.docker_hub {
            // Docker Hub is never moved by `--listen`: only GitLab dials it.
            Some(_) => {
                let ip = std::net::IpAddr::from([127, 0, 0, 1]);
                let bound = bind_free(ip)?;
                Some(
                    Listener::start(bound, Arc::new(Unmounted), journal.clone(), limits)
                        .map_err(|source| StageError::Listen { ip, port: 0, source })?,
                )
            }
            None => None,
        };
        let docker_hub_direct = match (&world.docker_hub, placement) {
            (Some(_), Placement::Named | Placement::NamedOnPorts) => {
                let leaf = pki
                    .public
                    .leaf(
                        &[docker_hub::REGISTRY_HOST, docker_hub::AUTH_HOST],
                        &crate::tls::Leaf::Issued,
                    )
                    .and_then(|l| l.server_tls())
                    .map_err(StageError::Tls)?;
                let bound = bind_free(ip)?;
                Some(
                    Listener::start_tls(bound, Arc::new(Unmounted), journal.clone(), limits, leaf)
                        .map_err(|source| StageError::Listen { ip, port: 0, source })?,
                )
            }
            _ => None,
        };
        let network = network_for(
            &world,
            &gitlab,
            &tls,
            registry_addr,
            &others,
            docker_hub_direct.as_ref(),
        );
        let stage = Stage {
            pushed: (0..=others.len()).map(|_| Default::default()).collect(),
            world,
            gitlab,
            registry,
            others,
            journal,
            network,
            job_taken: Arc::new(AtomicBool::new(false)),
            docker_hub,
            docker_hub_rate: docker_hub::RateState::default(),
            proxy_cache: gitlab::dependency_proxy::SharedCache::default(),
            settings,
            tls,
            trust,
            pki,
            docker_hub_direct,
            docker_hub_direct_rate: docker_hub::RateState::default(),
        };
        stage.mount()?;
        Ok(stage)
    }

    /// Mounts each server for `self.world`, each wrapped in the journal.
    fn mount(&self) -> Result<(), StageError> {
        let world = &self.world;
        if let (Some(server), Some(hub)) = (&self.docker_hub, &world.docker_hub) {
            let handler = docker_hub::DockerHubServer::new(
                hub,
                &world.name,
                world.clock,
                self.docker_hub_rate.clone(),
                hub.pulls_used,
            );
            server.set_handler(Arc::new(handler));
        }
        if let (Some(server), Some(hub)) = (&self.docker_hub_direct, &world.docker_hub) {
            let rate = self.docker_hub_direct_rate.clone();
            let used = hub.runner_host_pulls_used;
            server.set_handler(Arc::new(docker_hub::DockerHubServer::new(
                hub,
                &world.name,
                world.clock,
                rate,
                used,
            )));
        }
        let upstream = match &self.docker_hub {
            Some(hub) => Some(gitlab::dependency_proxy::Upstream::start(*hub.address()).map_err(StageError::Upstream)?),
            None => None,
        };
        let server = gitlab::GitlabServer::new(
            world.clone(),
            self.job_taken.clone(),
            upstream,
            self.proxy_cache.clone(),
            self.settings,
        );
        self.gitlab.set_handler(Arc::new(server));
        let config = registry::RegistryConfig::gitlab(world, &self.settings);
        self.registry
            .set_handler(Arc::new(registry::RegistryServer::new(config, self.pushed[0].clone())));
        for (i, (server, other)) in self.others.iter().zip(&world.registries).enumerate() {
            let config = registry::RegistryConfig::other(world, other, &self.settings);
            server.set_handler(Arc::new(registry::RegistryServer::new(
                config,
                self.pushed[i + 1].clone(),
            )));
        }
        Ok(())
    }

    /// Workshop mode: the same servers, on the same addresses and with the same journal, answer
    /// for an edited scenario from now on. Tokens issued before stay valid (the signing keys are
    /// the process's). Edits that would need other servers — registries or Docker Hub added or
    /// removed — are refused and the stage keeps answering for the old world.
    pub async fn reload(&mut self, world: &World, placement: Placement) -> Result<(), StageError> {
        if world.registries.len() != self.others.len() {
            return Err(StageError::NeedsRestart("the edit adds or removes a registry"));
        }
        if world.docker_hub.is_some() != self.docker_hub.is_some() {
            return Err(StageError::NeedsRestart("the edit adds or removes `docker_hub:`"));
        }
        let registry_addr = match placement {
            Placement::LoopbackWithRegistryAt(a) => a,
            _ => *self.registry.address(),
        };
        let loopback = (
            *self.gitlab.address(),
            registry_addr,
            self.others.iter().map(|o| *o.address()).collect::<Vec<_>>(),
        );
        let plain: Vec<&Listener> = [&self.gitlab, &self.registry].into_iter().chain(&self.others).collect();
        let ports: Vec<u16> = plain
            .iter()
            .zip(self.tls.iter().chain(std::iter::repeat(&None)))
            .map(|(p, t)| dialled(p, Some(t)).port())
            .collect();
        let world = Arc::new(placed(world, placement, loopback, &ports));
        if crate::pki::servers(&world) != crate::pki::servers(&self.world) {
            return Err(StageError::NeedsRestart(
                "the edit changes a server's name or certificate",
            ));
        }
        self.network = network_for(
            &world,
            &self.gitlab,
            &self.tls,
            registry_addr,
            &self.others,
            self.docker_hub_direct.as_ref(),
        );
        self.world = world;
        // A fresh job, registries and proxy cache for the new world (requeue_job's resets).
        self.requeue_job();
        self.mount()
    }

    /// The same job again on the same runner host, later the same day: the queue gets it back and
    /// the journal starts over, but registries, the proxy's cache and Docker Hub's counter keep
    /// what earlier runs left (`job.repeat`).
    pub fn rerun_job(&self) {
        self.job_taken.store(false, Ordering::SeqCst);
        self.journal.clear();
    }

    /// Puts the job back in the queue, so that a second runner (the real daemon's run, in the
    /// agreement check) picks up the very same job on the very same addresses.
    /// Makes the job available again and forgets what was pushed, so a second engine starts
    /// from the same registry state.
    pub fn requeue_job(&self) {
        self.job_taken.store(false, Ordering::SeqCst);
        self.journal.clear();
        for p in &self.pushed {
            *p.lock().expect("push store lock") = Default::default();
        }
        // The proxy's cache and Docker Hub's counter start over too.
        *self.proxy_cache.lock().expect("cache lock") = Default::default();
        *self.docker_hub_direct_rate.lock().expect("rate lock") = docker_hub::RateCounter {
            used: self.world.docker_hub.as_ref().map_or(0, |h| h.runner_host_pulls_used),
            ..Default::default()
        };
        let used = self.world.docker_hub.as_ref().map_or(0, |h| h.pulls_used);
        *self.docker_hub_rate.lock().expect("rate lock") = docker_hub::RateCounter {
            used,
            ..Default::default()
        };
    }
}

/// Why the mocks could not start or change.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("cannot listen on {ip}:{port}: {source}")]
    Listen {
        ip: std::net::IpAddr,
        port: u16,
        source: std::io::Error,
    },
    #[error("the Dependency Proxy's Docker Hub client does not start: {0}")]
    Upstream(std::io::Error),
    #[error("the servers' certificates cannot be made: {0}")]
    Tls(crate::tls::TlsError),
    #[error("{0}: restart `regsim serve` for that")]
    NeedsRestart(&'static str),
}

/// What a server answers between its start and its mount: nothing is routed yet.
struct Unmounted;

impl journal::Handler for Unmounted {
    fn server(&self, _: &crate::request::Request) -> String {
        "starting".into()
    }
    fn answer(&self, _: &crate::request::Request) -> journal::Answer {
        journal::Answer::new(crate::wire::Wire::new(503), "the server is starting")
    }
}
