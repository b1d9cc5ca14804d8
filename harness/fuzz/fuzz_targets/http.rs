//! Raw bytes as a client sends them to a mock server: parsed by the real HTTP/1.1 stack
//! (`listen::serve_io`) and answered by the server's handler, on an in-memory pipe. The first
//! byte picks the server (GitLab, the registry behind GitLab's tokens, Docker Hub, a registry
//! behind Basic auth); the rest is the request stream. Every request gets an answer or the
//! connection ends, within a bound, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use regsim::run::{Overrides, load};
use regsim_servers::listen::{Shared, serve_io};
use regsim_servers::{Placement, Stage};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a connection may take after its client has sent everything and shut its side.
const BOUND: Duration = Duration::from_secs(5);

struct Fixture {
    rt: tokio::runtime::Runtime,
    stages: Vec<Stage>,
    /// Each server's handler, with the stage (index into `stages`) whose journal it writes.
    servers: Vec<(Shared, usize)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let stage = |name: &str| {
            let world = load(&scenarios.join(name), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(Stage::start(&world, Placement::Named))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        // GitLab with a Dependency Proxy in front of Docker Hub, and GitLab's token registry.
        let proxy = stage("dependency-proxy-guest-pulls-through-cache.yaml");
        // A registry of its own behind Basic auth (distribution's htpasswd).
        let corp = stage("private-registry-on-a-port.yaml");
        let mut servers = vec![
            (proxy.gitlab.handler(), 0),
            (proxy.registry.handler(), 0),
            (proxy.docker_hub.as_ref().expect("the scenario has Docker Hub").handler(), 0),
        ];
        servers.extend(corp.others.iter().map(|o| (o.handler(), 1)));
        Fixture {
            rt,
            stages: vec![proxy, corp],
            servers,
        }
    })
}

fuzz_target!(
    // The servers start before the first input, outside libFuzzer's `-timeout`.
    init: {
        fixture();
    },
    |data: &[u8]| {
    let Some((&pick, request)) = data.split_first() else { return };
    let f = fixture();
    let (handler, s) = f.servers[pick as usize % f.servers.len()].clone();
    let stage = &f.stages[s];
    // Each input meets the same state: the job queued, nothing pushed or cached, the journal empty.
    stage.requeue_job();
    let (journal, limits) = (stage.journal.clone(), stage.settings.limits);
    f.rt.block_on(async {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let serving = tokio::spawn(serve_io(server, handler, journal, limits));
        let (mut rx, mut tx) = tokio::io::split(client);
        // Written and read at once: an answer may come before the request's end, and the pipe's
        // buffer is smaller than some inputs.
        let send = async {
            let _ = tx.write_all(request).await;
            let _ = tx.shutdown().await;
        };
        let receive = async {
            let mut answer = Vec::new();
            let _ = rx.read_to_end(&mut answer).await;
            if std::env::var_os("SHOWTMP").is_some() { eprintln!("{}", String::from_utf8_lossy(&answer)); }
            answer
        };
        let both = async { tokio::join!(send, receive) };
        if tokio::time::timeout(BOUND, both).await.is_err() {
            panic!("the server neither answered nor closed within {BOUND:?}");
        }
        if tokio::time::timeout(BOUND, serving).await.is_err() {
            panic!("the connection did not end within {BOUND:?} of its answer");
        }
    });
    }
);
