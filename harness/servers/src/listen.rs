//! The mock servers' HTTP/1.1 listener. wiremock's server (which regsim used until its servers
//! met hostile clients) has no time or size limits, stops accepting for good after one failed
//! `accept` (EMFILE), and panics on a request target that is not a path (`CONNECT host:port`), a
//! bad chunk size or a body shorter than its `Content-Length`. This listener keeps what it did —
//! one thread and a single-threaded runtime per server, so that a handler may block (the
//! Dependency Proxy waits on Docker Hub) — and adds what a server people point clients at needs:
//!
//! - a time limit on reading a request's head and on an idle connection;
//! - size limits on the head (431) and the body (413, refused from `Content-Length` before
//!   anything is buffered; a chunked body is cut off at the limit);
//! - a cap on open connections (further clients wait in the backlog);
//! - accept errors logged and survived: the listener keeps listening;
//! - a request that does not parse answered 400, never a panic;
//! - over HTTPS ([`Listener::start_tls`]), the TLS handshake bounded by the head's time limit, as
//!   Go's net/http bounds it by the smallest of its read and write timeouts
//!   (`Server.tlsHandshakeTimeout`), and each handshake's outcome kept ([`Listener::handshakes`]).
//!
//! The limits are regsim's own (a real registry streams bodies to storage; regsim's images are
//! tiny, so nothing a scenario does comes near them): see [`Limits`].

use crate::journal::{Answer, Handler, Journal};
use crate::request::{Refusal, Request};
use crate::tls::ServerTls;
use crate::wire::Wire;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;

/// What a server accepts, and for how long it waits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the first byte of a request to the end of its head; over HTTPS, also the time a
    /// client has for the TLS handshake.
    pub header_read: Duration,
    /// A connection with no request in progress is closed after this long.
    pub idle: Duration,
    /// The request head (request line and headers), bytes.
    pub max_head: usize,
    /// A request body, bytes.
    pub max_body: u64,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(30),
            // Go's net/http allows 1 MB of headers; no client of a registry sends a tenth of this.
            max_head: 64 * 1024,
            // A blob chunk or manifest of a regsim image is a few KB.
            max_body: 32 * 1024 * 1024,
            max_connections: 4096,
        }
    }
}

/// The handler a listener answers with; swapped whole when `regsim serve` reloads a scenario.
pub type Shared = Arc<RwLock<Arc<dyn Handler>>>;

/// How one TLS handshake ended, as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub peer: SocketAddr,
    /// The name the client asked for (SNI); Go sends none when it dials an IP address.
    pub server_name: Option<String>,
    /// `Ok(())`, or why the handshake failed: the client's alert (`received fatal alert:
    /// BadCertificate` when it refused the certificate), a timeout, bytes that are not TLS.
    pub outcome: Result<(), String>,
}

/// The newest handshakes of a listener (at most [`HANDSHAKES_KEPT`]).
pub type Handshakes = Arc<Mutex<VecDeque<Handshake>>>;

/// How many handshakes a listener remembers.
pub const HANDSHAKES_KEPT: usize = 1000;

/// A running server: its address, and the handler it answers with. Dropping it stops the server.
pub struct Listener {
    address: SocketAddr,
    handler: Shared,
    shutdown: Option<tokio::sync::watch::Sender<()>>,
    tls: Option<ServerTls>,
    handshakes: Handshakes,
}

impl Listener {
    /// Serves `handler` through `journal` on `listener` (already bound), on a thread of its own,
    /// over plain HTTP.
    pub fn start(
        listener: std::net::TcpListener,
        handler: Arc<dyn Handler>,
        journal: Journal,
        limits: Limits,
    ) -> std::io::Result<Listener> {
        Self::start_with(listener, handler, journal, limits, None)
    }

    /// Like [`Listener::start`], but over HTTPS with `tls`: each connection's handshake must end
    /// within `limits.header_read`, and its outcome is kept in [`Listener::handshakes`].
    pub fn start_tls(
        listener: std::net::TcpListener,
        handler: Arc<dyn Handler>,
        journal: Journal,
        limits: Limits,
        tls: ServerTls,
    ) -> std::io::Result<Listener> {
        Self::start_with(listener, handler, journal, limits, Some(tls))
    }

    /// Over HTTPS with `tls`, answering with the handler another listener answers with (`handler`
    /// of it): a server reachable both over plain HTTP and HTTPS, one state behind both.
    pub fn start_tls_beside(
        listener: std::net::TcpListener,
        shared: Shared,
        journal: Journal,
        limits: Limits,
        tls: ServerTls,
    ) -> std::io::Result<Listener> {
        Self::start_shared(listener, shared, journal, limits, Some(tls))
    }

    /// Over plain HTTP, answering with another listener's handler (see `start_tls_beside`).
    pub fn start_beside(
        listener: std::net::TcpListener,
        shared: Shared,
        journal: Journal,
        limits: Limits,
    ) -> std::io::Result<Listener> {
        Self::start_shared(listener, shared, journal, limits, None)
    }

    fn start_with(
        listener: std::net::TcpListener,
        handler: Arc<dyn Handler>,
        journal: Journal,
        limits: Limits,
        tls: Option<ServerTls>,
    ) -> std::io::Result<Listener> {
        Self::start_shared(listener, Arc::new(RwLock::new(handler)), journal, limits, tls)
    }

    fn start_shared(
        listener: std::net::TcpListener,
        shared: Shared,
        journal: Journal,
        limits: Limits,
        tls: Option<ServerTls>,
    ) -> std::io::Result<Listener> {
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (shutdown, stop) = tokio::sync::watch::channel(());
        let serving = shared.clone();
        let handshakes = Handshakes::default();
        let transport = Transport {
            tls: tls.as_ref().map(|t| t.config.clone()),
            handshakes: handshakes.clone(),
        };
        std::thread::Builder::new()
            .name(format!("regsim-server-{}", address.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => accept_loop(l, serving, journal, limits, transport, stop).await,
                        Err(e) => eprintln!("regsim: server {address}: {e}"),
                    }
                })
            })?;
        Ok(Listener {
            address,
            handler: shared,
            shutdown: Some(shutdown),
            tls,
            handshakes,
        })
    }

    pub fn address(&self) -> &SocketAddr {
        &self.address
    }

    /// `https` when the listener serves TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// `http://IP:PORT` (`https://` over TLS).
    pub fn uri(&self) -> String {
        format!("{}://{}", self.scheme(), self.address)
    }

    /// The TLS the listener serves, if any.
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_ref()
    }

    /// The newest TLS handshakes, oldest first (empty over plain HTTP).
    pub fn handshakes(&self) -> Vec<Handshake> {
        self.handshakes
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The handler this listener answers with, shared: `serve_io` answers with it on another
    /// byte stream (the fuzzer's in-memory pipe).
    pub fn handler(&self) -> Shared {
        self.handler.clone()
    }

    /// Answers with `handler` from the next request on (connections stay open).
    pub fn set_handler(&self, handler: Arc<dyn Handler>) {
        *self.handler.write().expect("handler lock") = handler;
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

/// What a connection is read through: TLS (with the handshakes' record) or nothing.
struct Transport {
    tls: Option<Arc<rustls::ServerConfig>>,
    handshakes: Handshakes,
}

/// Accepts until shut down. An accept error (too many open files, a connection reset before it
/// was accepted) is reported once a second at most and waited out: the listener never stops.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    handler: Shared,
    journal: Journal,
    limits: Limits,
    transport: Transport,
    mut stop: tokio::sync::watch::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut last_report: Option<std::time::Instant> = None;
    loop {
        let slot = tokio::select! {
            biased;
            _ = stop.changed() => return,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => return,
            },
        };
        let accepted = tokio::select! {
            biased;
            _ = stop.changed() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                if last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    eprintln!(
                        "regsim: server {}: accept failed ({e}); still listening",
                        listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
                    );
                    last_report = Some(std::time::Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Go's net/http server sets TCP_NODELAY on every connection; without it a TLS record
        // split over two writes waits for the client's delayed ACK (40 ms).
        let _ = stream.set_nodelay(true);
        let (handler, journal) = (handler.clone(), journal.clone());
        let tls = transport.tls.clone();
        let handshakes = transport.handshakes.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => serve_io(stream, handler, journal, limits).await,
                Some(config) => {
                    let (server_name, outcome, stream) =
                        match tokio::time::timeout(limits.header_read, handshake(stream, config)).await {
                            Ok((name, Ok(s))) => (name, Ok(()), Some(s)),
                            Ok((name, Err(e))) => (name, Err(e), None),
                            Err(_) => (
                                None,
                                Err(format!("no handshake within {} ms", limits.header_read.as_millis())),
                                None,
                            ),
                        };
                    record(
                        &handshakes,
                        Handshake {
                            peer,
                            server_name,
                            outcome,
                        },
                    );
                    if let Some(s) = stream {
                        serve_io_as(s, handler, journal, limits, "https").await;
                    }
                }
            }
        });
    }
}

/// A TLS handshake: the name the client asked for (read from its hello, so known even when the
/// client then refuses the certificate), and the stream or why there is none.
async fn handshake(
    stream: tokio::net::TcpStream,
    config: Arc<rustls::ServerConfig>,
) -> (
    Option<String>,
    Result<tokio_rustls::server::TlsStream<tokio::net::TcpStream>, String>,
) {
    let start = match tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await {
        Ok(s) => s,
        Err(e) => return (None, Err(e.to_string())),
    };
    let name = start.client_hello().server_name().map(str::to_string);
    (name, start.into_stream(config).await.map_err(|e| e.to_string()))
}

fn record(handshakes: &Handshakes, h: Handshake) {
    if let Ok(mut all) = handshakes.lock() {
        if all.len() >= HANDSHAKES_KEPT {
            all.pop_front();
        }
        all.push_back(h);
    }
}

/// One connection's requests, answered by `handler` through `journal` under `limits`, on any
/// byte stream (a TCP connection here; an in-memory pipe for the fuzzer).
pub async fn serve_io<IO>(io: IO, handler: Shared, journal: Journal, limits: Limits)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_io_as(io, handler, journal, limits, "http").await
}

/// Like [`serve_io`], the requests' URLs in `scheme` (`https` behind TLS: a registry builds its
/// `Location` URLs from it, as distribution does from `r.TLS`).
async fn serve_io_as<IO>(io: IO, handler: Shared, journal: Journal, limits: Limits, scheme: &'static str)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let (handler, journal) = (handler.clone(), journal.clone());
        async move {
            let answer = match read_request(req, &limits, scheme).await {
                Ok(r) => {
                    let h = handler.read().expect("handler lock").clone();
                    journal.answer(h.as_ref(), &r)
                }
                Err(refusal) => {
                    let h = handler.read().expect("handler lock").clone();
                    journal.refusal(h.as_ref(), &refusal)
                }
            };
            Ok::<_, Infallible>(to_hyper(&answer))
        }
    });
    let io = TokioIo::new(Idle::new(io, limits.idle));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        // A client may shut its side down while it waits for the answer, as Go's net/http allows.
        .half_close(true)
        .header_read_timeout(limits.header_read)
        .max_buf_size(limits.max_head.max(8192))
        .serve_connection(io, service);
    // A connection that fails (a timeout, a client gone, a head hyper cannot parse — hyper has
    // answered it already) just ends.
    let _ = conn.await;
}

/// The request, whole, or why it is refused: a target that is not a path (400), a body over the
/// limit (413: said by `Content-Length` before reading, or met while reading a chunked body), a
/// body that breaks off or whose chunks do not parse (400).
async fn read_request(req: hyper::Request<Incoming>, limits: &Limits, scheme: &str) -> Result<Request, Refusal> {
    let (parts, body) = req.into_parts();
    let refuse = |status: u16, why: String| Refusal {
        method: parts.method.to_string(),
        target: parts.uri.to_string(),
        status,
        why,
    };
    // Go's net/http, which GitLab's Workhorse and distribution's registry run on, refuses an
    // HTTP/1.1 request without Host this way.
    if parts.version == http::Version::HTTP_11 && !parts.headers.contains_key(http::header::HOST) {
        return Err(refuse(400, "missing required Host header".into()));
    }
    let url = match (parts.uri.scheme(), parts.uri.path_and_query()) {
        (Some(_), Some(_)) => url::Url::parse(&parts.uri.to_string()),
        (None, Some(pq)) if pq.as_str().starts_with('/') => url::Url::parse(&format!("{scheme}://localhost{pq}")),
        _ => return Err(refuse(400, "the request target is not a path".into())),
    }
    .map_err(|e| refuse(400, format!("the request target does not parse: {e}")))?;
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body) {
        return Err(refuse(
            413,
            format!(
                "a body of {} bytes is over regsim's limit of {} bytes",
                declared.unwrap_or(0),
                limits.max_body
            ),
        ));
    }
    let body = match Limited::new(body, limits.max_body as usize).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return Err(refuse(
                413,
                format!("the body is over regsim's limit of {} bytes", limits.max_body),
            ));
        }
        Err(e) => return Err(refuse(400, format!("the body could not be read: {e}"))),
    };
    Ok(Request {
        url,
        method: parts.method,
        headers: parts.headers,
        body,
    })
}

/// The answer as hyper sends it. For a HEAD, hyper drops the body and keeps its length in
/// `Content-Length`, as Go's net/http does (Docker needs it).
fn to_hyper(answer: &Answer) -> hyper::Response<Full<Bytes>> {
    let w: &Wire = &answer.response;
    let mut r = hyper::Response::builder().status(w.status);
    for (n, v) in &w.headers {
        r = r.header(n.as_str(), v.as_str());
    }
    r.body(Full::new(Bytes::from(w.body.clone())))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

/// A connection that errors out of a read after `idle` without a byte. Reads in progress reset
/// the clock; writes do not wait on it.
struct Idle<IO> {
    inner: IO,
    idle: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<IO> Idle<IO> {
    fn new(inner: IO, idle: Duration) -> Self {
        Idle {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Idle<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    let next = tokio::time::Instant::now() + self.idle;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(r)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "idle connection",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Idle<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
