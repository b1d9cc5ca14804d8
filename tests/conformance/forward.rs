//! A TCP forwarder standing where a scenario's GitLab registry is named, so one job on one stage
//! can be pulled through the mock registry and then through the reference registry without a
//! single name, port or image byte changing between the two runs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

#[derive(Default)]
struct State {
    target: Option<SocketAddr>,
    /// The connections forwarded so far (client ↔ target pairs).
    open: Vec<AbortHandle>,
}

pub struct Forwarder {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl Forwarder {
    /// Listens on a free loopback port; connections are refused until `point_to`.
    pub async fn start() -> Result<Forwarder, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("forwarder: no free loopback port: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                // Target and bookkeeping under one lock, so `point_to` never misses a connection.
                let Ok(mut s) = st.lock() else { break };
                let Some(target) = s.target else {
                    continue; // dropping `client` closes it
                };
                let task = tokio::spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
                s.open.retain(|h| !h.is_finished());
                s.open.push(task.abort_handle());
            }
        });
        Ok(Forwarder { addr, state, accept })
    }

    /// Sends new connections to `target` and closes every connection opened before, so that no
    /// client keeps talking to the previous server over a kept-alive connection (Go's HTTP client
    /// drops an idle connection its peer closed and dials again).
    pub fn point_to(&self, target: SocketAddr) {
        if let Ok(mut s) = self.state.lock() {
            s.target = Some(target);
            for h in s.open.drain(..) {
                h.abort();
            }
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(mut s) = self.state.lock() {
            for h in s.open.drain(..) {
                h.abort();
            }
        }
    }
}
