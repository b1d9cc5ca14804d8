//! The plain-HTTP client the simulated engine and runner speak with, built once per process rather than per
//! scenario: building a reqwest client sets up its TLS backend when one is compiled in (the test
//! and bench builds have one, for oci-client: native-tls loads the system's certificate store),
//! about 50 ms per client, more than a whole scenario. (The Dependency Proxy's requests to Docker
//! Hub have their own, on their own runtime: mock::gitlab::dependency_proxy.)
//!
//! Pooled connections are safe here: a stage's mocks listen on their ports for the stage's whole
//! life, and when a stage drops, wiremock shuts each connection down, so a pooled connection to
//! a port a later stage reuses is closed, never answered by the wrong mock (at worst it fails and
//! hyper retries it on a new connection).

use std::sync::OnceLock;

/// The simulated engine's and runner's client, on the caller's runtime; keeps connections alive
/// as dockerd's registry client does, and follows no redirect (the engine decides that itself).
pub fn pooled() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a plain HTTP client builds")
        })
        .clone()
}
