//! The kubelet's call to the container runtime, `runtime.v1.ImageService/PullImage`, over CRI's
//! gRPC on a unix socket — the oracle for the simulated containerd. gRPC here is HTTP/2 with
//! hyper and the two messages encoded by hand (protobuf: each field a tag and a length-delimited
//! string; k8s.io/cri-api `pkg/apis/runtime/v1/api.proto`): `PullImageRequest{image = 1
//! (ImageSpec{image = 1}), auth = 2 (AuthConfig{username = 1, password = 2, auth = 3,
//! server_address = 4, identity_token = 5, registry_token = 6})}`, `PullImageResponse{image_ref = 1}`.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `AuthConfig` of the CRI request: what the kubelet found in the pod's image pull secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriAuth {
    pub username: String,
    pub password: String,
    pub auth: String,
    pub server_address: String,
    pub identity_token: String,
    pub registry_token: String,
}

/// A gRPC status: its code's name as grpc-go prints it and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcStatus {
    pub code: GrpcCode,
    pub message: String,
}

/// The codes a pull answers with (google.golang.org/grpc/codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcCode {
    Unknown,
    InvalidArgument,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    FailedPrecondition,
    Unavailable,
    Unimplemented,
    Canceled,
    DeadlineExceeded,
    Internal,
    Other(u32),
}

impl GrpcCode {
    pub fn from_number(n: u32) -> GrpcCode {
        match n {
            1 => GrpcCode::Canceled,
            2 => GrpcCode::Unknown,
            3 => GrpcCode::InvalidArgument,
            4 => GrpcCode::DeadlineExceeded,
            5 => GrpcCode::NotFound,
            6 => GrpcCode::AlreadyExists,
            7 => GrpcCode::PermissionDenied,
            9 => GrpcCode::FailedPrecondition,
            12 => GrpcCode::Unimplemented,
            13 => GrpcCode::Internal,
            14 => GrpcCode::Unavailable,
            n => GrpcCode::Other(n),
        }
    }

    /// `codes.Code.String()`.
    pub fn name(self) -> String {
        match self {
            GrpcCode::Unknown => "Unknown".into(),
            GrpcCode::InvalidArgument => "InvalidArgument".into(),
            GrpcCode::NotFound => "NotFound".into(),
            GrpcCode::AlreadyExists => "AlreadyExists".into(),
            GrpcCode::PermissionDenied => "PermissionDenied".into(),
            GrpcCode::FailedPrecondition => "FailedPrecondition".into(),
            GrpcCode::Unavailable => "Unavailable".into(),
            GrpcCode::Unimplemented => "Unimplemented".into(),
            GrpcCode::Canceled => "Canceled".into(),
            GrpcCode::DeadlineExceeded => "DeadlineExceeded".into(),
            GrpcCode::Internal => "Internal".into(),
            GrpcCode::Other(n) => format!("Code({n})"),
        }
    }
}

impl std::fmt::Display for GrpcStatus {
    /// grpc-go's `status.Error` text, `rpc error: code = %s desc = %s` (what kubelets ≤ 1.27 show).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rpc error: code = {} desc = {}", self.code.name(), self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CriError {
    #[error("CRI socket {0}: {1}")]
    Connect(String, String),
    #[error("CRI call: {0}")]
    Call(String),
}

fn field(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    if bytes.is_empty() {
        return; // proto3 leaves empty strings out
    }
    varint(out, u64::from(number << 3 | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// `PullImageRequest` as protobuf bytes.
pub fn encode_pull_request(image: &str, auth: Option<&CriAuth>) -> Vec<u8> {
    let mut spec = Vec::new();
    field(&mut spec, 1, image.as_bytes());
    let mut msg = Vec::new();
    // ImageSpec is always sent (an empty image still makes the field present).
    varint(&mut msg, 1 << 3 | 2);
    varint(&mut msg, spec.len() as u64);
    msg.extend_from_slice(&spec);
    if let Some(a) = auth {
        let mut ac = Vec::new();
        field(&mut ac, 1, a.username.as_bytes());
        field(&mut ac, 2, a.password.as_bytes());
        field(&mut ac, 3, a.auth.as_bytes());
        field(&mut ac, 4, a.server_address.as_bytes());
        field(&mut ac, 5, a.identity_token.as_bytes());
        field(&mut ac, 6, a.registry_token.as_bytes());
        varint(&mut msg, 2 << 3 | 2);
        varint(&mut msg, ac.len() as u64);
        msg.extend_from_slice(&ac);
    }
    msg
}

/// `PullImageResponse.image_ref` from protobuf bytes.
fn decode_image_ref(mut b: &[u8]) -> Option<String> {
    let read_varint = |b: &mut &[u8]| -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = b.split_first()?;
            *b = rest;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    while !b.is_empty() {
        let key = read_varint(&mut b)?;
        match key & 7 {
            2 => {
                let len = read_varint(&mut b)? as usize;
                if len > b.len() {
                    return None;
                }
                let (value, rest) = b.split_at(len);
                if key >> 3 == 1 {
                    return Some(String::from_utf8_lossy(value).into_owned());
                }
                b = rest;
            }
            0 => {
                read_varint(&mut b)?;
            }
            _ => return None,
        }
    }
    Some(String::new())
}

/// grpc-go percent-encodes `grpc-message` (RFC 3986 unreserved and most printable ASCII stay).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One `PullImage` call: the image reference on success, the gRPC status otherwise.
pub async fn pull_image(
    socket: &Path,
    image: &str,
    auth: Option<&CriAuth>,
    limit: Duration,
) -> Result<Result<String, GrpcStatus>, CriError> {
    let call = async {
        let stream = tokio::net::UnixStream::connect(socket)
            .await
            .map_err(|e| CriError::Connect(socket.display().to_string(), e.to_string()))?;
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(|e| CriError::Connect(socket.display().to_string(), e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let msg = encode_pull_request(image, auth);
        let mut framed = Vec::with_capacity(msg.len() + 5);
        framed.push(0); // not compressed
        framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        framed.extend_from_slice(&msg);
        let req = hyper::Request::post("http://localhost/runtime.v1.ImageService/PullImage")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(Bytes::from(framed)))
            .map_err(|e| CriError::Call(e.to_string()))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| CriError::Call(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        let collected = body.collect().await.map_err(|e| CriError::Call(e.to_string()))?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let data = collected.to_bytes();
        // A trailers-only answer carries the status in the headers.
        let get = |name: &str| {
            trailers
                .get(name)
                .or_else(|| parts.headers.get(name))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let code: u32 = get("grpc-status")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CriError::Call(format!("no grpc-status (HTTP {})", parts.status)))?;
        if code != 0 {
            return Ok(Err(GrpcStatus {
                code: GrpcCode::from_number(code),
                message: percent_decode(&get("grpc-message").unwrap_or_default()),
            }));
        }
        let payload = data.get(5..).unwrap_or_default();
        let image_ref =
            decode_image_ref(payload).ok_or_else(|| CriError::Call("undecodable PullImageResponse".into()))?;
        Ok(Ok(image_ref))
    };
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| CriError::Call(format!("no answer within {limit:?}")))?
}

/// A private containerd with its CRI plugin on its own socket and state directories (beside any
/// containerd the machine runs for docker), stopped on drop.
pub struct RealContainerd {
    child: Child,
    root: PathBuf,
    pub socket: PathBuf,
}

impl RealContainerd {
    /// Starts `containerd` (Debian's 1.6.20 in CI) under `root`; `Err` says why not (not installed,
    /// not root, did not come up within 30 s).
    pub fn start(root: &Path) -> Result<RealContainerd, String> {
        let binary = ["/usr/bin/containerd", "/usr/local/bin/containerd"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .ok_or("containerd is not installed (Debian's containerd package)")?;
        let _ = std::fs::remove_dir_all(root);
        std::fs::create_dir_all(root).map_err(|e| e.to_string())?;
        let socket = root.join("containerd.sock");
        let config = format!(
            "version = 2\nroot = \"{r}/root\"\nstate = \"{r}/state\"\n\
             [grpc]\n  address = \"{s}\"\n[ttrpc]\n  address = \"{s}.ttrpc\"\n[debug]\n  address = \"\"\n\
             [metrics]\n  address = \"\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\"]\n  disable_tcp_service = true\n  stream_server_port = \"0\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"native\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".cni]\n  bin_dir = \"{r}/cni-bin\"\n  conf_dir = \"{r}/cni-conf\"\n",
            r = root.display(),
            s = socket.display()
        );
        let config_path = root.join("config.toml");
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(root.join("containerd.log")).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let mut me = RealContainerd {
            child,
            root: root.to_path_buf(),
            socket,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = me.child.try_wait() {
                return Err(format!(
                    "containerd exited ({status}); see {}",
                    me.root.join("containerd.log").display()
                ));
            }
            if me.socket.exists() {
                return Ok(me);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = me.child.kill();
        Err("containerd did not open its socket within 30 s".into())
    }
}

impl Drop for RealContainerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Snapshots may be mounted under root; leave the directory if it cannot be removed.
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_encodes_as_protobuf() {
        let auth = CriAuth {
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        let b = encode_pull_request("a:1", Some(&auth));
        assert_eq!(
            b,
            [
                0x0a, 5, 0x0a, 3, b'a', b':', b'1', 0x12, 6, 0x0a, 1, b'u', 0x12, 1, b'p'
            ]
        );
        assert_eq!(decode_image_ref(&[0x0a, 3, b's', b'h', b'a']).as_deref(), Some("sha"));
        assert_eq!(percent_decode("a%20b%3A"), "a b:");
    }
}
