//! Docker Hub as GitLab reaches it: fixed names (`DependencyProxy::Registry`), here the Docker Hub
//! mock. wiremock's handlers are synchronous, so the GitLab server's handler blocks while its
//! request is out, as a Rails worker does while it talks to Docker Hub; the request itself runs on
//! this GitLab server's own upstream thread, which keeps its connections and ends with the server.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;

pub struct Upstream {
    address: SocketAddr,
    calls: tokio::sync::mpsc::UnboundedSender<UpstreamCall>,
}

struct UpstreamCall {
    method: hyper::Method,
    url: String,
    bearer: Option<String>,
    accept: Option<String>,
    reply: std::sync::mpsc::Sender<Result<UpstreamReply, UpstreamError>>,
}

pub(super) struct UpstreamReply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl UpstreamReply {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Why a request to Docker Hub got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The connection or the exchange failed (hyper's words).
    #[error("{0}")]
    Transport(String),
    #[error("the Docker Hub client has stopped")]
    Stopped,
}

fn transport(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Transport(e.to_string())
}

async fn fetch_upstream(client: HttpClient, call: UpstreamCall) {
    let result = async {
        let mut r = hyper::Request::builder().method(call.method).uri(call.url);
        if let Some(b) = call.bearer {
            r = r.header("Authorization", format!("Bearer {b}"));
        }
        // Ruby's Net::HTTP, which GitLab's client sits on, sends `Accept: */*` unless told otherwise.
        r = r.header("Accept", call.accept.as_deref().unwrap_or("*/*"));
        let request = r.body(Empty::new()).map_err(transport)?;
        let resp = client.request(request).await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = resp.into_body().collect().await.map_err(transport)?.to_bytes().to_vec();
        Ok(UpstreamReply { status, headers, body })
    }
    .await;
    let _ = call.reply.send(result);
}

impl Upstream {
    /// Starts the upstream thread: a runtime of its own with one plain-HTTP client, serving calls
    /// concurrently until this value is dropped (the channel closes, the thread ends).
    pub fn start(address: SocketAddr) -> Result<Upstream, std::io::Error> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (calls, mut rx) = tokio::sync::mpsc::unbounded_channel::<UpstreamCall>();
        std::thread::Builder::new()
            .name("regsim-docker-hub-client".into())
            .spawn(move || {
                rt.block_on(async move {
                    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
                    while let Some(call) = rx.recv().await {
                        tokio::spawn(fetch_upstream(client.clone(), call));
                    }
                })
            })?;
        Ok(Upstream { address, calls })
    }

    /// One request to the Docker Hub mock; `path` includes the query.
    pub(super) fn call(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        accept: Option<&str>,
    ) -> Result<UpstreamReply, UpstreamError> {
        let method = hyper::Method::from_bytes(method.as_bytes()).map_err(transport)?;
        let (reply, answer) = std::sync::mpsc::channel();
        self.calls
            .send(UpstreamCall {
                method,
                url: format!("http://{}{path}", self.address),
                bearer: bearer.map(str::to_string),
                accept: accept.map(str::to_string),
                reply,
            })
            .map_err(|_| UpstreamError::Stopped)?;
        answer.recv().map_err(|_| UpstreamError::Stopped)?
    }

    /// `DependencyProxy::RequestTokenService`: an anonymous pull token for `image`.
    pub(super) fn token(&self, image: &str) -> Result<String, UpstreamReply> {
        let path = format!("/token?service=registry.docker.io&scope=repository:{image}:pull");
        let reply = self.call("GET", &path, None, None).map_err(|e| UpstreamReply {
            status: 599,
            headers: vec![],
            body: e.to_string().into_bytes(),
        })?;
        if reply.status != 200 {
            return Err(reply);
        }
        serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string))
            .ok_or(reply)
    }
}
