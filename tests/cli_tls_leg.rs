//! The job's Docker CLI when its leg to a TLS dind service does not come up, against the real
//! CLIs on this machine: Debian's 20.10.24 (`/usr/bin/docker`, from docker.io) and the upstream
//! 28.2.2 of the machine image (`/usr/local/bin/docker`, no package installs it: skipped where
//! absent). Both cases stay on loopback:
//! - DOCKER_TLS_VERIFY with no `ca.pem` where DOCKER_CERT_PATH points: the CLI fails before any
//!   connection (`unable to resolve docker endpoint: …`, eagerly in 20.10, lazily from 23.0);
//! - plain HTTP to a TLS listener: Go's HTTP server answers 400 `Client sent an HTTP request to
//!   an HTTPS server.`; distribution 2.8.2 (`docker-registry`, a Go server) serves TLS here.

use regsim_clients::docker_cli::tls_leg_output;
use regsim_model::versions::docker_cli::{TlsLegFailure, profile};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn say(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// The CLIs this machine may have, with the version each is.
fn clis() -> Vec<(&'static str, semver::Version)> {
    let mut out = Vec::new();
    for (path, version, required) in [
        ("/usr/bin/docker", semver::Version::new(20, 10, 24), true),
        ("/usr/local/bin/docker", semver::Version::new(28, 2, 2), false),
    ] {
        if Path::new(path).is_file() {
            out.push((path, version));
        } else if required && in_ci() {
            panic!("{path} is missing (Debian package docker.io)");
        } else {
            say(&format!("SKIPPED the Docker CLI {version} TLS-leg texts: no {path}"));
        }
    }
    out
}

/// Runs `cli ARGS` with `env`; stdout and stderr through one pipe, as a job log shows them.
fn run(cli: &str, args: &[&str], env: &[(&str, String)], home: &Path) -> (String, i32) {
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    let mut cmd = Command::new(cli);
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(writer.try_clone().expect("pipe"))
        .stderr(writer);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the CLI starts");
    drop(cmd);
    let mut out = Vec::new();
    reader.read_to_end(&mut out).expect("read");
    let code = child.wait().expect("wait").code().unwrap_or(-1);
    (String::from_utf8_lossy(&out).into_owned(), code)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regsim-cli-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The command lines compared: `login` (with its `-p` warning) and `push`; the registry named
/// is never dialled (the CLI stops before, or the daemon leg fails first).
fn commands() -> [(&'static str, Vec<&'static str>); 2] {
    [
        ("login", vec!["login", "-u", "ci", "-p", "secret", "127.0.0.1:9"]),
        ("push", vec!["push", "127.0.0.1:9/group/app:1"]),
    ]
}

fn expected(version: &semver::Version, command: &str, failure: &TlsLegFailure) -> (String, i32) {
    let client = profile(version).expect("a modelled CLI");
    let before = if command == "login" {
        client.login.before_request()
    } else {
        ""
    };
    let run = tls_leg_output(&client, command, before, failure).expect("modelled");
    (run.text(), run.code)
}

#[test]
fn missing_ca_reads_as_the_real_clis_print_it() {
    let home = scratch("missing-ca");
    let cert_path = home.join("certs/client");
    for (cli, version) in clis() {
        for (command, args) in commands() {
            let env = [
                // Nothing listens on port 9: the CLI must fail before it dials.
                ("DOCKER_HOST", "tcp://127.0.0.1:9".to_string()),
                ("DOCKER_TLS_VERIFY", "1".to_string()),
                ("DOCKER_CERT_PATH", cert_path.display().to_string()),
            ];
            let real = run(cli, &args, &env, &home);
            let failure = TlsLegFailure::MissingCa {
                ca_path: format!("{}/ca.pem", cert_path.display()),
            };
            assert_eq!(
                expected(&version, command, &failure),
                real,
                "Docker CLI {version} `docker {command}` without ca.pem"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&home);
}

/// distribution 2.8.2 serving TLS on a free loopback port, killed when dropped.
struct TlsListener {
    child: std::process::Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free loopback port below Linux's ephemeral range (32768–60999): docker-registry binds it
/// after this returns, and a port the kernel hands out for `bind(0)` could meanwhile go to
/// another test's mock, which then answered the CLI (`404 page not found`).
fn port_outside_the_ephemeral_range() -> u16 {
    let seed = std::process::id() as u16;
    (0..2000u16)
        .map(|i| 20000 + (seed.wrapping_add(i.wrapping_mul(7919))) % 10000)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port between 20000 and 29999")
}

fn tls_listener() -> Option<TlsListener> {
    for tool in ["/usr/bin/docker-registry", "/usr/bin/openssl"] {
        if !Path::new(tool).is_file() {
            assert!(!in_ci(), "{tool} is missing (Debian packages docker-registry, openssl)");
            say(&format!("SKIPPED plain HTTP to a TLS listener: no {tool}"));
            return None;
        }
    }
    let dir = scratch("listener");
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs")
        .success();
    assert!(ok, "openssl made no certificate");
    let port = port_outside_the_ephemeral_range();
    let config = format!(
        "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\n",
        root = dir.join("data").display(),
        cert = dir.join("cert.pem").display(),
        key = dir.join("key.pem").display(),
    );
    std::fs::write(dir.join("config.yml"), config).expect("config");
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(dir.join("config.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry starts");
    let listener = TlsListener { child, port, dir };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "docker-registry did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(listener)
}

/// How many times a command is tried: the listener closes with the request partly unread, so
/// the client may read a reset before the answer (observed for 28.2.2's login).
const ATTEMPTS: usize = 4;

#[test]
fn plain_http_to_a_tls_listener_reads_as_the_real_clis_print_it() {
    let Some(listener) = tls_listener() else {
        return;
    };
    let home = scratch("plain-to-tls");
    for (cli, version) in clis() {
        for (command, args) in commands() {
            let env = [("DOCKER_HOST", format!("tcp://127.0.0.1:{}", listener.port))];
            let want = expected(&version, command, &TlsLegFailure::PlainHttpToTls);
            let mut seen = Vec::new();
            for _ in 0..ATTEMPTS {
                let real = run(cli, &args, &env, &home);
                if real == want {
                    break;
                }
                assert!(
                    real.0.contains("connection reset by peer"),
                    "Docker CLI {version} `docker {command}` to a TLS listener: expected {want:?}, got {real:?}"
                );
                seen.push(real);
            }
            assert!(
                seen.len() < ATTEMPTS,
                "Docker CLI {version} `docker {command}`: only resets in {ATTEMPTS} attempts: {seen:?}"
            );
            if !seen.is_empty() {
                say(&format!(
                    "note: Docker CLI {version} `docker {command}` read a reset {} time(s) before the answer",
                    seen.len()
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&home);
}
