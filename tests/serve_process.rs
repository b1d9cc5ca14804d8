//! `regsim serve` as a process, as participants and CI jobs meet it: its listeners survive
//! running out of file descriptors, its memory stays within a stated bound under load, and what
//! it prints holds no secret in full. Bounded in count and time, loopback only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The resident memory `regsim serve` may use after 50 000 requests. It is bounded by its
/// journal (the newest 1000 exchanges) and its connections; a run measured 20–30 MiB here.
pub const SERVE_RSS_BOUND_MIB: u64 = 64;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name)
}

/// A running `regsim serve`, its registry address, and its output so far; killed on drop.
struct Serve {
    child: Child,
    registry: SocketAddr,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Serve {
    /// Starts `regsim serve FILE` with `args`, under `sh -c` when `limit_fds` asks for a file
    /// descriptor limit, and waits for it to print its addresses.
    fn start(file: &str, args: &[&str], limit_fds: Option<u32>) -> Serve {
        let bin = env!("CARGO_BIN_EXE_regsim");
        let path = scenario(file);
        let mut cmd = match limit_fds {
            Some(n) => {
                let mut c = Command::new("sh");
                let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
                c.arg("-c").arg(format!(
                    "ulimit -n {n} && exec '{bin}' serve '{}' {}",
                    path.display(),
                    quoted.join(" ")
                ));
                c
            }
            None => {
                let mut c = Command::new(bin);
                c.arg("serve").arg(&path).args(args);
                c
            }
        };
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
        }
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let registry = loop {
            let l = lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("regsim serve printed no address: {seen:?}"));
            seen.push(l.clone());
            if let Some(addr) = l
                .strip_prefix("GitLab container registry")
                .and_then(|r| r.trim().strip_prefix("http://"))
            {
                break addr.parse().unwrap();
            }
        };
        Serve {
            child,
            registry,
            lines,
            seen,
        }
    }

    /// Everything printed so far.
    fn output(&mut self) -> String {
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(300)) {
            self.seen.push(l);
        }
        self.seen.join("\n")
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get_v2(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut got = String::new();
    s.read_to_string(&mut got).ok()?;
    got.lines().next().map(str::to_string)
}

#[test]
fn serve_keeps_listening_when_file_descriptors_run_out() {
    let mut serve = Serve::start(
        "seed-000-allowlist-blocks-cross-project-pull.yaml",
        &["--idle-timeout", "3"],
        Some(256),
    );
    let addr = serve.registry;
    // More connections than descriptors: once the server has taken what it can, its accept fails
    // (EMFILE) and the rest wait in the backlog.
    let held: Vec<TcpStream> = (0..300).filter_map(|_| TcpStream::connect(addr).ok()).collect();
    assert!(held.len() >= 250, "{} connections", held.len());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !serve.output().contains("accept failed") {
        assert!(
            Instant::now() < deadline,
            "the exhaustion was not reported: {}",
            serve.output()
        );
    }
    // The clients go away and free the descriptors; the listener must still be there.
    drop(held);
    std::thread::sleep(Duration::from_millis(3500));
    let answer = (0..20).find_map(|_| {
        let a = get_v2(addr);
        if a.is_none() {
            std::thread::sleep(Duration::from_millis(250));
        }
        a
    });
    assert_eq!(
        answer.as_deref(),
        Some("HTTP/1.1 401 Unauthorized"),
        "{}",
        serve.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_memory_stays_bounded_after_fifty_thousand_requests() {
    let serve = Serve::start("seed-000-allowlist-blocks-cross-project-pull.yaml", &[], None);
    let url = format!("http://{}/v2/your/project/image/manifests/latest", serve.registry);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url) = (client.clone(), url.clone());
        set.spawn(async move {
            for _ in 0..6250 {
                let r = client.head(&url).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 401);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let rss = serve.rss_kib();
    eprintln!("regsim serve after 50000 requests: VmRSS {} MiB", rss / 1024);
    assert!(
        rss / 1024 <= SERVE_RSS_BOUND_MIB,
        "VmRSS {rss} KiB after 50000 requests, over {SERVE_RSS_BOUND_MIB} MiB"
    );
}

#[test]
fn serve_prints_no_secret_in_full() {
    // Seed 001's fix: a project access token, and a user with a password added here.
    let file = "seed-001-fix-project-access-token.yaml";
    let mut serve = Serve::start(file, &[], None);
    let token = "my_project_access_token";
    // A failed login with a password the user typed: GitLab's 401 names it in the trace.
    let gitlab_port: u16 = serve
        .seen
        .iter()
        .find_map(|l| {
            l.strip_prefix("GitLab ")
                .and_then(|r| r.rsplit_once("http://127.0.0.1:"))
        })
        .and_then(|(_, p)| p.trim().parse().ok())
        .expect("serve prints GitLab's address");
    let typed = "MyRealGitLabPassw0rd!";
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("root:{typed}"))
    };
    let mut s = TcpStream::connect(("127.0.0.1", gitlab_port)).unwrap();
    s.write_all(
        format!(
            "GET /jwt/auth?service=container_registry&scope=repository:project_a/group/container:pull HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let out = serve.output();
    assert!(!out.contains(token), "the token is printed in full:\n{out}");
    assert!(!out.contains(typed), "the typed password is printed in full:\n{out}");
    assert!(out.contains("[MASKED: 21 characters, begins \"My\"]"), "{out}");
    drop(serve);
    // With --show-secrets, the workshop's copy-paste login is there.
    let mut shown = Serve::start(file, &["--show-secrets"], None);
    assert!(shown.output().contains(token));
}
