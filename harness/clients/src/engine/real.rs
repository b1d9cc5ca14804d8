//! A real dockerd, spoken to over its unix socket exactly as the runner's Docker client does:
//! the same Engine API calls and the same `X-Registry-Auth` bytes. Used to check the simulated
//! engine against reality.

use super::{DaemonError, ImageInspect, ProgressStream};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UnixStream;

/// Engine API version: dockerd 20.10's. Like the runner's client (docker/client
/// `NegotiateAPIVersion`), a daemon that answers `_ping` with a lower `Api-Version` is spoken to
/// in its own.
const API: (u32, u32) = (1, 41);

#[derive(Clone)]
pub struct RealDaemon {
    socket: PathBuf,
    /// `/v1.41`, or the daemon's lower API version.
    api: String,
    /// One turn per image path (the name without its registry host): see [`RealDaemon::take_turns`].
    turns: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Another real daemon that plays a `docker:dind` service's, with a trust of its own; without
    /// one, this daemon stands in for the service's too.
    dind: Option<Arc<RealDaemon>>,
}

/// Held while a job runs on the daemon with the images it names; dropped, the next job naming
/// one of them may start. Each turn is a lock in this process and, where the lock file can be
/// opened, an exclusive `flock` on a file named by the daemon's socket and the path: another
/// regsim process on the same daemon (a `run --engine real` beside the test suite) waits too.
pub struct Turns(#[allow(dead_code)] Vec<(tokio::sync::OwnedMutexGuard<()>, Option<std::fs::File>)>);

struct Reply {
    status: u16,
    body: Vec<u8>,
    /// The `Api-Version` header (every answer carries it; `_ping`'s is the one read).
    api_version: Option<String>,
}

/// Why the real daemon could not be reached or asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RealDaemonError {
    #[error("DOCKER_HOST={0} is not a unix socket")]
    NotUnixSocket(String),
    #[error("{socket}: _ping answered {status}")]
    Ping { socket: String, status: u16 },
    #[error("{socket}: _ping timed out")]
    Timeout { socket: String },
    /// The socket, the HTTP exchange or the answer's JSON failed.
    #[error("{0}")]
    Transport(String),
}

fn transport(e: impl std::fmt::Display) -> RealDaemonError {
    RealDaemonError::Transport(e.to_string())
}

impl RealDaemon {
    /// `DOCKER_HOST=unix://…` or `/var/run/docker.sock`, if a daemon answers `_ping` there.
    pub async fn connect() -> Result<RealDaemon, RealDaemonError> {
        let socket = match std::env::var("DOCKER_HOST") {
            Ok(h) if h.starts_with("unix://") => PathBuf::from(&h["unix://".len()..]),
            Ok(h) if !h.is_empty() => return Err(RealDaemonError::NotUnixSocket(h)),
            _ => PathBuf::from("/var/run/docker.sock"),
        };
        Self::at(socket).await
    }

    /// The daemon on the unix socket `socket`, if it answers `_ping` there.
    pub async fn at(socket: PathBuf) -> Result<RealDaemon, RealDaemonError> {
        let mut d = RealDaemon {
            socket,
            api: format!("/v{}.{}", API.0, API.1),
            turns: Arc::default(),
            dind: None,
        };
        match tokio::time::timeout(Duration::from_secs(3), d.call("GET", "/_ping", None, None)).await {
            Ok(Ok(r)) if r.status == 200 => {
                if let Some((major, minor)) = r.api_version.as_deref().and_then(api_version)
                    && (major, minor) < API
                {
                    d.api = format!("/v{major}.{minor}");
                }
                Ok(d)
            }
            Ok(Ok(r)) => Err(RealDaemonError::Ping {
                socket: d.socket.display().to_string(),
                status: r.status,
            }),
            Ok(Err(e)) => Err(transport(format!("{}: {e}", d.socket.display()))),
            Err(_) => Err(RealDaemonError::Timeout {
                socket: d.socket.display().to_string(),
            }),
        }
    }

    /// This daemon, with `dind` playing a `docker:dind` service's daemon.
    pub fn with_dind(mut self, dind: Arc<RealDaemon>) -> RealDaemon {
        self.dind = Some(dind);
        self
    }

    /// The daemon a `docker:dind` service's job talks to: the one given by `with_dind`, else this.
    pub fn dind(&self) -> RealDaemon {
        match &self.dind {
            Some(d) => (**d).clone(),
            None => self.clone(),
        }
    }

    /// The daemon's version string (`GET /version`).
    pub async fn version(&self) -> Result<String, RealDaemonError> {
        Ok(self.version_info().await?.version)
    }

    /// What the daemon says of itself (`GET /version`): engine, API and Go versions, platform.
    pub async fn version_info(&self) -> Result<regsim_wire::engine_api::EngineVersion, RealDaemonError> {
        let r = self.call("GET", "/version", None, None).await?;
        serde_json::from_slice(&r.body).map_err(transport)
    }

    /// The unix socket this daemon answers on.
    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        registry_auth: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, RealDaemonError> {
        let headers: Vec<(&str, &str)> = registry_auth.map(|a| ("X-Registry-Auth", a)).into_iter().collect();
        self.call_as(method, path, &headers, body, "application/json").await
    }

    async fn call_as(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Result<Reply, RealDaemonError> {
        let stream = UnixStream::connect(&self.socket).await.map_err(transport)?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(transport)?;
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "docker")
            .header("content-type", content_type);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(transport)?;
        let resp = sender.send_request(req).await.map_err(transport)?;
        let status = resp.status().as_u16();
        let api_version = resp
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.into_body().collect().await.map_err(transport)?.to_bytes().to_vec();
        Ok(Reply {
            status,
            body,
            api_version,
        })
    }

    pub async fn create_image(&self, from_image: &str, tag: &str, registry_auth: &str) -> Result<(), DaemonError> {
        // A 200 carries the progress stream; an error inside it ends the pull.
        match self.pull_image(from_image, tag, registry_auth).await?.error {
            Some(message) => Err(DaemonError::Stream { message }),
            None => Ok(()),
        }
    }

    /// `POST /images/create` with its progress stream (the job's `docker pull`).
    pub async fn pull_image(
        &self,
        from_image: &str,
        tag: &str,
        registry_auth: &str,
    ) -> Result<ProgressStream, DaemonError> {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("fromImage", from_image)
            .append_pair("tag", tag)
            .finish();
        let r = self
            .call(
                "POST",
                &format!("{}/images/create?{q}", self.api),
                Some(registry_auth),
                None,
            )
            .await
            .map_err(unreachable)?;
        if r.status != 200 {
            return Err(http_error(&r));
        }
        Ok(progress_stream(&r.body))
    }

    pub async fn inspect_image(&self, name: &str) -> Result<ImageInspect, DaemonError> {
        let r = self
            .call("GET", &format!("{}/images/{name}/json", self.api), None, None)
            .await
            .map_err(unreachable)?;
        if r.status != 200 {
            return Err(http_error(&r));
        }
        let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| DaemonError::Http {
            status: 0,
            message: e.to_string(),
        })?;
        Ok(ImageInspect {
            id: v["Id"].as_str().unwrap_or_default().to_string(),
            repo_digests: v["RepoDigests"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect(),
        })
    }

    /// `POST /auth` (what `docker login` asks the daemon): `Ok(status text)` or the daemon's error.
    pub async fn login(&self, username: &str, password: &str, server: &str) -> Result<String, DaemonError> {
        let body = serde_json::json!({"username": username, "password": password, "serveraddress": server});
        let r = self
            .call(
                "POST",
                &format!("{}/auth", self.api),
                None,
                Some(body.to_string().into_bytes()),
            )
            .await
            .map_err(unreachable)?;
        if r.status != 200 {
            return Err(http_error(&r));
        }
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        Ok(v["Status"].as_str().unwrap_or_default().to_string())
    }

    /// `POST /build?t=TAG`: a context tar holding only the Dockerfile (the classic builder, as the
    /// API gives it without BuildKit's session).
    pub async fn build(
        &self,
        dockerfile: &str,
        tag: &str,
        registry_config: &str,
    ) -> Result<ProgressStream, DaemonError> {
        let context = regsim_wire::tar::one_file_tar("Dockerfile", dockerfile);
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("t", tag)
            .finish();
        let r = self
            .call_as(
                "POST",
                &format!("{}/build?{q}", self.api),
                &[("X-Registry-Config", registry_config)],
                Some(context),
                "application/x-tar",
            )
            .await
            .map_err(unreachable)?;
        if r.status != 200 {
            return Err(http_error(&r));
        }
        Ok(progress_stream(&r.body))
    }

    /// `POST /images/{source}/tag?repo=…&tag=…`.
    pub async fn tag_image(&self, source: &str, repo: &str, tag: &str) -> Result<(), DaemonError> {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("repo", repo)
            .append_pair("tag", tag)
            .finish();
        let r = self
            .call("POST", &format!("{}/images/{source}/tag?{q}", self.api), None, None)
            .await
            .map_err(unreachable)?;
        if r.status != 201 {
            return Err(http_error(&r));
        }
        Ok(())
    }

    /// `POST /images/{name}/push?tag=…` with `X-Registry-Auth`.
    pub async fn push_image(&self, name: &str, tag: &str, registry_auth: &str) -> Result<ProgressStream, DaemonError> {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("tag", tag)
            .finish();
        let r = self
            .call(
                "POST",
                &format!("{}/images/{name}/push?{q}", self.api),
                Some(registry_auth),
                None,
            )
            .await
            .map_err(unreachable)?;
        if r.status != 200 {
            return Err(http_error(&r));
        }
        Ok(progress_stream(&r.body))
    }

    /// Waits until no other job through this daemon (in this process or another regsim's) uses an
    /// image of the same path (whatever loopback port its registry has), then holds that until the returned [`Turns`] drop. The
    /// same path is the same bytes (mock::image), so the same image ID: a second tag of it adds a
    /// repo digest to `RepoDigests`, whose first entry the runner prints (`with digest …`), and
    /// removing one job's image would pull the other's from under it. Paths are taken in sorted
    /// order, so two jobs never wait on each other in a circle.
    pub async fn take_turns(&self, names: &[String]) -> Turns {
        let mut paths: Vec<&str> = names.iter().map(|n| path_of(n)).collect();
        paths.sort_unstable();
        paths.dedup();
        let mut held = Vec::new();
        for p in paths {
            let lock = self
                .turns
                .lock()
                .expect("turns map")
                .entry(p.to_string())
                .or_default()
                .clone();
            let guard = lock.lock_owned().await;
            let file = self.take_turn_across_processes(p).await;
            held.push((guard, file));
        }
        Turns(held)
    }

    /// The cross-process half of a turn: `$TMPDIR/regsim-daemon-turns/<sha256 of socket and
    /// path>.lock`, locked exclusively (polled, so the runtime's threads never block). `None`
    /// when the file cannot be opened or locked for another reason (a read-only or foreign temp
    /// directory): the turn is then this process's only, as before.
    async fn take_turn_across_processes(&self, path: &str) -> Option<std::fs::File> {
        use sha2::Digest;
        let dir = std::env::temp_dir().join("regsim-daemon-turns");
        std::fs::create_dir_all(&dir).ok()?;
        // One daemon under two names (/var/run is /run on Debian) is one image store.
        let socket = std::fs::canonicalize(&self.socket).unwrap_or_else(|_| self.socket.clone());
        let key = sha2::Sha256::digest(format!("{}\n{path}", socket.display()).as_bytes());
        let name: String = key.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{name}.lock")))
            .ok()?;
        loop {
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Some(file),
                Err(e) if e == rustix::io::Errno::WOULDBLOCK => tokio::time::sleep(Duration::from_millis(25)).await,
                Err(_) => return None,
            }
        }
    }

    /// Removes the tags an earlier comparison of the same scenario left under another loopback
    /// port (`127.0.0.1:PORT/path:tag` for the same `path:tag` as `name`): the same content under
    /// another name adds its repo digest to dockerd's answer. Runs that crashed leave them; a
    /// fresh daemon (CI) has none. Call it holding the path's turn ([`RealDaemon::take_turns`]):
    /// a live job's tag is a twin too.
    pub async fn remove_loopback_twins(&self, name: &str) {
        let Some((host, rest)) = name.split_once('/') else {
            return;
        };
        if !host.starts_with("127.0.0.1:") {
            return;
        }
        let Ok(r) = self.call("GET", &format!("{}/images/json", self.api), None, None).await else {
            return;
        };
        let images: Vec<serde_json::Value> = serde_json::from_slice(&r.body).unwrap_or_default();
        let twins: Vec<String> = images
            .iter()
            .flat_map(|i| i["RepoTags"].as_array().cloned().unwrap_or_default())
            .filter_map(|t| t.as_str().map(str::to_string))
            .filter(|t| {
                t != name
                    && t.split_once('/')
                        .is_some_and(|(h, r)| h.starts_with("127.0.0.1:") && r == rest)
            })
            .collect();
        for t in twins {
            self.remove_image(&t).await;
        }
    }

    /// Removes an image the comparison pulled, so the next run starts from the same state.
    pub async fn remove_image(&self, name: &str) {
        let _ = self
            .call("DELETE", &format!("{}/images/{name}?force=1", self.api), None, None)
            .await;
    }
}

/// `path:tag` of `host[:port]/path:tag`; the name itself when its first component is not a host
/// (no `.` or `:`, not `localhost`), as the reference parser decides.
fn path_of(name: &str) -> &str {
    match name.split_once('/') {
        Some((host, rest)) if host.contains(['.', ':']) || host == "localhost" => rest,
        _ => name,
    }
}

/// The JSON lines of a progress stream, as a non-terminal CLI sees them: progress-bar updates
/// are dropped (`jsonmessage.Display`: "disable progressbar in non-terminal"), `aux` is not
/// printed.
fn progress_stream(body: &[u8]) -> ProgressStream {
    let mut out = ProgressStream::default();
    for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
            out.error = Some(e.to_string());
            break;
        }
        if let Some(s) = v.get("stream").and_then(|s| s.as_str()) {
            out.stream(s);
            continue;
        }
        let Some(status) = v.get("status").and_then(|s| s.as_str()) else {
            continue;
        };
        let p = &v["progressDetail"];
        if p["current"].as_i64().unwrap_or(0) > 0 || p["total"].as_i64().unwrap_or(0) > 0 {
            continue;
        }
        out.status(v.get("id").and_then(|i| i.as_str()), status);
    }
    out
}

/// The socket failed under us: not a daemon answer, said as regsim's own.
fn unreachable(e: RealDaemonError) -> DaemonError {
    DaemonError::Http {
        status: 0,
        message: format!("regsim: dockerd unreachable: {e}"),
    }
}

/// `checkResponseErr`: the JSON `message`, trimmed.
fn http_error(r: &Reply) -> DaemonError {
    let message = serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
    DaemonError::Http {
        status: r.status,
        message: message.trim().to_string(),
    }
}

/// `1.41` as (1, 41).
fn api_version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A daemon handle of its own, as another process has: no turn map shared with `socket`'s
    /// other handles. Nothing is sent to the socket.
    fn handle(socket: &str) -> RealDaemon {
        RealDaemon {
            socket: PathBuf::from(socket),
            api: "/v1.41".into(),
            turns: Arc::default(),
            dind: None,
        }
    }

    /// Two handles on one daemon that share no memory (two processes) still take turns on an
    /// image path, whatever loopback port names it; another daemon's socket is another turn.
    #[tokio::test]
    async fn turns_hold_across_handles_that_share_nothing() {
        let socket = format!("/nonexistent/regsim-turns-test-{}.sock", std::process::id());
        let (a, b) = (handle(&socket), handle(&socket));
        let held = a.take_turns(&["127.0.0.1:40001/team/app:1".into()]).await;
        assert!(
            held.0.iter().all(|(_, file)| file.is_some()),
            "the lock file opens in the temp directory"
        );
        let waiting = tokio::time::timeout(
            Duration::from_millis(300),
            b.take_turns(&["127.0.0.1:40002/team/app:1".into()]),
        )
        .await;
        assert!(
            waiting.is_err(),
            "the second handle waits while the first holds the path"
        );
        let other = handle(&format!("{socket}.other"));
        let free = tokio::time::timeout(
            Duration::from_secs(5),
            other.take_turns(&["127.0.0.1:40002/team/app:1".into()]),
        )
        .await;
        assert!(free.is_ok(), "another daemon's image store is another turn");
        drop(held);
        let after = tokio::time::timeout(
            Duration::from_secs(5),
            b.take_turns(&["127.0.0.1:40002/team/app:1".into()]),
        )
        .await;
        assert!(after.is_ok(), "once dropped, the path is free");
    }
}
