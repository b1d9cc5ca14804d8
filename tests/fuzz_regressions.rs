//! What fuzzing found (`make fuzz`, README "Fuzzing"), kept: each input a fuzz target failed on,
//! minimized, in `tests/fuzz/TARGET/`, fed as that target feeds it. A hang fails a time bound
//! here instead of stopping the suite.

use regsim::run::{Overrides, load};
use regsim_servers::{Placement, Stage};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The inputs of one fuzz target, by file name.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(root().join("tests/fuzz").join(target))
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in tests/fuzz/{target}");
    out
}

/// Sends `bytes`, shuts the sending side and reads until the server closes: `Err` when it has
/// not within 5 s.
fn exchange(addr: SocketAddr, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => Ok(got),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            Err(format!("no answer and no close within 5 s ({} bytes read)", got.len()))
        }
        // A reset after the answer: the server closed with unread input.
        Err(_) => Ok(got),
    }
}

/// The `http` target's servers, in the order its first byte picks them
/// (harness/fuzz/fuzz_targets/http.rs): GitLab with its Dependency Proxy, GitLab's registry,
/// Docker Hub, and a registry behind Basic auth.
async fn http_servers() -> (Vec<Stage>, Vec<SocketAddr>) {
    let stage = |name: &str| {
        let world = load(&root().join("scenarios").join(name), &Overrides::default()).unwrap();
        async move { Stage::start(&world, Placement::Named).await.unwrap() }
    };
    let proxy = stage("dependency-proxy-guest-pulls-through-cache.yaml").await;
    let corp = stage("private-registry-on-a-port.yaml").await;
    let addrs = vec![
        *proxy.gitlab.address(),
        *proxy.registry.address(),
        *proxy.docker_hub.as_ref().unwrap().address(),
        *corp.others[0].address(),
    ];
    (vec![proxy, corp], addrs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_inputs_are_answered_and_the_servers_stay_up() {
    let (stages, addrs) = http_servers().await;
    tokio::task::spawn_blocking(move || {
        for (name, input) in inputs("http") {
            let (pick, request) = input.split_first().unwrap();
            let addr = addrs[*pick as usize % addrs.len()];
            // Each input meets a fresh state, as in the fuzz target.
            stages.iter().for_each(Stage::requeue_job);
            if let Err(e) = exchange(addr, request) {
                panic!("tests/fuzz/http/{name}: {e}");
            }
            let ping = exchange(addr, b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assert!(
                ping.is_ok_and(|a| a.starts_with(b"HTTP/1.1 ")),
                "tests/fuzz/http/{name}: the server stopped answering"
            );
        }
    })
    .await
    .unwrap();
}
