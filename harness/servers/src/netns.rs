//! The mocks by real host names, for a real dockerd: a network and mount namespace of a test's
//! own, where the mocks listen on documentation-range addresses (RFC 5737, `192.0.2.0/24`) put on
//! the namespace's `lo`, a hosts file bind-mounted over `/etc/hosts` names them, and a directory
//! of the test's bind-mounted over `/etc/docker` holds `certs.d/HOST[:PORT]/ca.crt` and
//! `daemon.json` — where users put them. A second dockerd runs inside (its own socket, data root,
//! exec root and pid file; `--iptables=false --bridge=none --storage-driver=vfs`).
//!
//! Why not loopback: dockerd counts every registry whose address is in `127.0.0.0/8` as insecure
//! (moby `registry/config.go` appends that range to the insecure ones), skips the certificate
//! check there and falls back to plain HTTP, so no x509 failure can be seen on `127.0.0.1`.
//!
//! How the pieces get in:
//! - a holder process, `unshare -n -m --propagation private bash …`, makes both namespaces, sets
//!   up `lo`, the addresses and the two bind mounts, prints its pid, and waits on its stdin: it
//!   ends when the [`Namespace`] is dropped or the test process dies (the pipe closes), and after
//!   `limit` in any case (`timeout`);
//! - the mocks' sockets are made on a short-lived thread that joined the namespace's network
//!   (`setns`, [`Namespace::bind`]); a socket stays in the namespace it was made in, so the
//!   listener's own thread, outside, serves it. Only the network namespace is joined (joining a
//!   mount namespace needs a single-threaded process);
//! - dockerd is started with `nsenter --net --mount` into the holder's namespaces, under a bash
//!   wrapper that stops it when its stdin closes (or on `timeout`);
//! - the Docker CLI runs outside and talks to that dockerd over its unix socket (a path in the
//!   test's directory, reachable from any network namespace).
//!
//! Nothing leaves the namespace, and the machine's `/etc/hosts`, `/etc/docker` and trust store
//! are untouched: the bind mounts exist only in the namespace's mount table. Needs root,
//! util-linux's `unshare` and `nsenter`, iproute2's `ip`, coreutils' `timeout` and `dockerd`; and
//! `/etc/docker` must exist as a mount point (dockerd makes it on its first start).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Why the namespace, a socket in it, its dockerd or a command could not do its part.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("cannot run the real daemon by real host names here: {0}")]
    Unavailable(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("the namespace did not come up: {0}")]
    Setup(String),
    #[error("{what} did not finish within {} s", limit.as_secs())]
    Timeout { what: String, limit: Duration },
    #[error("dockerd in the namespace did not answer: {why}; its log ends with:\n{log}")]
    Dockerd { why: String, log: String },
    #[error("`{0}` is not a registry's host[:port]")]
    BadAuthority(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetnsError {
    let what = what.into();
    move |source| NetnsError::Io { what, source }
}

/// The programs the namespace needs, on `PATH`.
const PROGRAMS: &[&str] = &["unshare", "nsenter", "ip", "timeout", "bash", "dockerd"];

/// `Ok` when this process can make the namespace and run dockerd in it; else what is missing.
pub fn available() -> Result<(), NetnsError> {
    if !rustix::process::geteuid().is_root() {
        return Err(NetnsError::Unavailable("not root".into()));
    }
    let missing: Vec<&str> = PROGRAMS.iter().copied().filter(|p| which(p).is_none()).collect();
    if !missing.is_empty() {
        return Err(NetnsError::Unavailable(format!(
            "not installed: {}",
            missing.join(", ")
        )));
    }
    if !Path::new("/etc/docker").is_dir() {
        return Err(NetnsError::Unavailable(
            "/etc/docker does not exist to be bind-mounted over (dockerd makes it on its first start)".into(),
        ));
    }
    Ok(())
}

/// The program's path on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// A network and mount namespace of the test's own, with its hosts file and `/etc/docker`.
/// Dropping it ends the holder (and so the namespaces, once the dockerds started in them and the
/// sockets bound in them are gone) and removes its directory.
pub struct Namespace {
    holder: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
    dir: PathBuf,
    limit: Duration,
    dockerds: AtomicUsize,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("pid", &self.pid)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Namespace {
    /// Makes the namespaces: `lo` up with each of `hosts`' addresses (as /32), the hosts file
    /// naming them (`localhost` too), an empty `/etc/docker/certs.d`. Everything in it ends
    /// after `limit` at the latest.
    pub fn create(hosts: &[(Ipv4Addr, &str)], limit: Duration) -> Result<Namespace, NetnsError> {
        available()?;
        let dir = std::env::temp_dir().join(format!(
            "regsim-ns-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc-docker/certs.d")).map_err(io(format!("mkdir {}", dir.display())))?;
        let mut hosts_file = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        for (ip, name) in hosts {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
                return Err(NetnsError::BadAuthority(name.to_string()));
            }
            hosts_file.push_str(&format!("{ip}\t{name}\n"));
        }
        std::fs::write(dir.join("hosts"), hosts_file).map_err(io("write the hosts file"))?;
        let mut addresses: Vec<String> = hosts.iter().map(|(ip, _)| ip.to_string()).collect();
        addresses.sort();
        addresses.dedup();
        let script = r#"set -eu
dir=$1; shift
ip link set lo up
for a in "$@"; do ip addr add "$a/32" dev lo; done
mount --bind "$dir/hosts" /etc/hosts
mount --bind "$dir/etc-docker" /etc/docker
echo "ready $$"
read -r _ || true
"#;
        let mut holder = Command::new("timeout")
            .args(["-k", "5", &format!("{}s", limit.as_secs().max(1))])
            .args([
                "unshare",
                "-n",
                "-m",
                "--propagation",
                "private",
                "bash",
                "-c",
                script,
                "regsim-ns",
            ])
            .arg(&dir)
            .args(&addresses)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io("start unshare"))?;
        let stdin = holder.stdin.take();
        let stdout = holder.stdout.take();
        let stderr = holder.stderr.take();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        let mut ns = Namespace {
            holder,
            stdin,
            pid: 0,
            dir,
            limit,
            dockerds: AtomicUsize::new(0),
        };
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        match line.trim().strip_prefix("ready ").and_then(|p| p.parse::<u32>().ok()) {
            Some(pid) => ns.pid = pid,
            None => {
                let mut err = String::new();
                if let Some(mut e) = stderr {
                    let _ = ns.holder.kill();
                    let _ = e.read_to_string(&mut err);
                }
                return Err(NetnsError::Setup(if err.trim().is_empty() {
                    format!("the holder said {:?}", line.trim())
                } else {
                    err.trim().to_string()
                }));
            }
        }
        Ok(ns)
    }

    /// A command run inside the namespace's network (`nsenter --net`), e.g. a server a real
    /// client there must reach.
    pub fn command_inside(&self, program: &Path) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/proc/{}/ns/net", self.pid)).arg("--").arg(program);
        c
    }

    /// The test's directory behind the namespace (hosts file, `etc-docker/`, each dockerd's).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` on a thread of its own that joined the namespace's network: sockets it makes
    /// live there (and stay there when used from elsewhere).
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
        let path = format!("/proc/{}/ns/net", self.pid);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(&path).map_err(io(format!("open {path}")))?;
                rustix::thread::move_into_link_name_space(
                    file.as_fd(),
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )
                .map_err(|e| NetnsError::Io {
                    what: format!("setns {path}"),
                    source: e.into(),
                })?;
                Ok(f())
            })
            .join()
            .unwrap_or_else(|_| Err(NetnsError::Setup("the thread in the namespace panicked".into())))
        })
    }

    /// A listening socket on `addr` inside the namespace (for [`crate::listen::Listener`]).
    pub fn bind(&self, addr: SocketAddr) -> Result<TcpListener, NetnsError> {
        self.enter(|| TcpListener::bind(addr))?
            .map_err(io(format!("bind {addr} in the namespace")))
    }

    /// Trusts `ca_pem` for the registry `authority` (`host` or `host:port`) as users do:
    /// `/etc/docker/certs.d/<authority>/ca.crt`. dockerd reads the directory at each connection's
    /// setup, so no restart is needed.
    pub fn trust(&self, authority: &str, ca_pem: &str) -> Result<(), NetnsError> {
        let dir = self.certs_dir(authority)?;
        std::fs::create_dir_all(&dir).map_err(io(format!("mkdir {}", dir.display())))?;
        std::fs::write(dir.join("ca.crt"), ca_pem).map_err(io("write ca.crt"))
    }

    /// Removes what [`Namespace::trust`] put there for `authority`.
    pub fn distrust(&self, authority: &str) -> Result<(), NetnsError> {
        let dir = self.certs_dir(authority)?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(format!("rm {}", dir.display()))(e)),
            _ => Ok(()),
        }
    }

    fn certs_dir(&self, authority: &str) -> Result<PathBuf, NetnsError> {
        let ok = !authority.is_empty()
            && !authority.starts_with('.')
            && authority
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !ok {
            return Err(NetnsError::BadAuthority(authority.to_string()));
        }
        Ok(self.dir.join("etc-docker/certs.d").join(authority))
    }

    /// Starts a dockerd inside the namespace with `/etc/docker/daemon.json` written from
    /// `config` (a JSON object; `{}` for none), and waits until it answers `_ping`.
    pub fn start_dockerd(&self, config: &str) -> Result<Dockerd<'_>, NetnsError> {
        self.start_dockerd_with(config, None)
    }

    /// Like [`Namespace::start_dockerd`], with `system_store` (PEM certificates) as the whole of
    /// its system trust store: Go reads `SSL_CERT_FILE` and `SSL_CERT_DIR` once per process, so a
    /// store that changes needs another dockerd.
    pub fn start_dockerd_with(&self, config: &str, system_store: Option<&str>) -> Result<Dockerd<'_>, NetnsError> {
        let n = self.dockerds.fetch_add(1, Ordering::SeqCst);
        let own = self.dir.join(format!("d{n}"));
        std::fs::create_dir_all(own.join("ssl-certs")).map_err(io(format!("mkdir {}", own.display())))?;
        let mut env: Vec<(String, String)> = Vec::new();
        if let Some(pem) = system_store {
            let bundle = own.join("ca-certificates.crt");
            std::fs::write(&bundle, pem).map_err(io("write the system store"))?;
            env.push(("SSL_CERT_FILE".into(), bundle.display().to_string()));
            env.push(("SSL_CERT_DIR".into(), own.join("ssl-certs").display().to_string()));
        }
        std::fs::write(self.dir.join("etc-docker/daemon.json"), config).map_err(io("write daemon.json"))?;
        let socket = own.join("docker.sock");
        let log_path = own.join("dockerd.log");
        let log = File::create(&log_path).map_err(io("create dockerd.log"))?;
        let log2 = log.try_clone().map_err(io("dockerd.log"))?;
        // dockerd ends when the wrapper's stdin closes (the Dockerd is dropped, or the test
        // process dies), on TERM, or when `timeout` runs out.
        let wrapper = r#"dockerd "$@" </dev/null & d=$!
stop() { kill -TERM "$d" 2>/dev/null; wait "$d"; exit 0; }
trap stop TERM INT
read -r _ || true
stop
"#;
        let mut child = Command::new("nsenter")
            .envs(env)
            .arg(format!("--target={}", self.pid))
            .args(["--net", "--mount", "--"])
            .args(["timeout", "-k", "10", &format!("{}s", self.limit.as_secs().max(1))])
            .args(["bash", "-c", wrapper, "regsim-dockerd"])
            .args(["--iptables=false", "--bridge=none", "--storage-driver=vfs"])
            .arg(format!("--host=unix://{}", socket.display()))
            .arg(format!("--data-root={}", own.join("data").display()))
            .arg(format!("--exec-root={}", own.join("exec").display()))
            .arg(format!("--pidfile={}", own.join("docker.pid").display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .map_err(io("start nsenter dockerd"))?;
        let stdin = child.stdin.take();
        let mut dockerd = Dockerd {
            _namespace: self,
            child,
            stdin,
            socket,
            log: log_path,
        };
        let start = Instant::now();
        let limit = Duration::from_secs(90);
        loop {
            if dockerd.ping() {
                return Ok(dockerd);
            }
            let exited = dockerd
                .child
                .try_wait()
                .ok()
                .flatten()
                .map(|s| format!("it exited ({s})"));
            let late = (start.elapsed() > limit).then(|| format!("no answer within {} s", limit.as_secs()));
            if let Some(why) = exited.or(late) {
                let log = dockerd.log_tail(30);
                return Err(NetnsError::Dockerd { why, log });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if wait_until(&mut self.holder, Duration::from_secs(10)).is_none() {
            let _ = self.holder.kill();
            let _ = self.holder.wait();
        }
        if std::env::var_os("REGSIM_KEEP_NETNS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The child's exit status once it has exited, or `None` after `limit`.
fn wait_until(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

/// A dockerd in a [`Namespace`]; dropping it stops it (TERM, then KILL after 10 s).
pub struct Dockerd<'a> {
    _namespace: &'a Namespace,
    child: Child,
    stdin: Option<ChildStdin>,
    socket: PathBuf,
    log: PathBuf,
}

/// What a command printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Dockerd<'_> {
    /// The daemon's unix socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `unix:///…/docker.sock`, for `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The daemon's log (stdout and stderr) so far, its last `lines` lines.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn ping(&self) -> bool {
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(&self.socket) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n").is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.") && answer.ends_with("\r\n\r\nOK")
    }

    /// Runs the Docker CLI `cli` against this daemon with `args`, its configuration in
    /// `config_dir` (`DOCKER_CONFIG`), stopped after `limit`.
    pub fn docker(&self, cli: &Path, config_dir: &Path, args: &[&str], limit: Duration) -> Result<Output, NetnsError> {
        let mut cmd = Command::new(cli);
        cmd.args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", config_dir)
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env_remove("DOCKER_AUTH_CONFIG")
            // No credential helper on PATH: docker/cli otherwise picks `pass` or `secretservice`
            // as its default store when their helpers are installed (DetectDefaultStore), and a
            // login would go there instead of to config.json.
            .env("PATH", config_dir);
        run_bounded(cmd, &format!("{} {}", cli.display(), args.join(" ")), limit)
    }
}

impl Drop for Dockerd<'_> {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if wait_until(&mut self.child, Duration::from_secs(20)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `cmd` with its output captured, killing it after `limit`.
pub fn run_bounded(mut cmd: Command, what: &str, limit: Duration) -> Result<Output, NetnsError> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io(format!("start {what}")))?;
    let read = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = read(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = read(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let status = match wait_until(&mut child, limit) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(NetnsError::Timeout {
                what: what.to_string(),
                limit,
            });
        }
    };
    Ok(Output {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}
