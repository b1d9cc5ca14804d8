//! The plain-HTTP client the simulated engine and runner speak with, built once per process rather than per
//! scenario: building a reqwest client sets up its TLS backend when one is compiled in (the test
//! and bench builds have one, for oci-client: native-tls loads the system's certificate store),
//! about 50 ms per client, more than a whole scenario. (The Dependency Proxy's requests to Docker
//! Hub have their own, on their own runtime: mock::gitlab::dependency_proxy.)
//!
//! No connection is kept idle between requests. A pooled one could outlive its mock: a stage
//! drops, another stage (or another test's runtime, which the one client is shared with) binds
//! the same port, and a request written on the stale connection read a reset or, on a port
//! reused at once, the wrong server (a rare failure under load in CI). A fresh loopback
//! connection per request costs nothing measurable (catalogue wall time unchanged). Nothing
//! regsim compares depends on reuse: the journals record requests, not connections.

use std::sync::OnceLock;

/// The simulated engine's and runner's client, on the caller's runtime; follows no redirect (the
/// engine decides that itself).
pub fn shared() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .expect("a plain HTTP client builds")
        })
        .clone()
}

/// Where a request for a URL goes on a scenario's network: the mock's address (`None` when no
/// server of the scenario answers that name), the request target and the Host header as Go's
/// client writes them (the port only when the URL names one).
pub struct Target {
    pub host: String,
    pub port: u16,
    pub addr: Option<std::net::SocketAddr>,
    /// Path and query.
    pub path: String,
    pub host_header: String,
}

pub fn target(network: &regsim_wire::net::Network, parsed: &url::Url) -> Target {
    let host = parsed.host_str().unwrap_or_default().to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addr = network.resolve(&host, port, parsed.path());
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let host_header = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    Target {
        host,
        port,
        addr,
        path,
        host_header,
    }
}

/// One HTTP/1.1 request on a connection already open (a TLS stream whose handshake the caller
/// checked its own way): the status, headers and whole body, or hyper's error text.
pub async fn send_on<S>(
    stream: S,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let mut req = hyper::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let req = req
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    Ok((status, headers, body))
}
