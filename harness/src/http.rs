//! The plain-HTTP clients the simulated side speaks with (the engine, the runner's job request,
//! the Dependency Proxy's upstream fetches): built once per process, not per scenario. Building
//! a reqwest client sets up its TLS backend when one is compiled in (the test build has one, for
//! oci-client: native-tls loads the system's certificate store) and that cost ~50 ms per client,
//! more than a whole scenario. No connection pooling: a mock's port can be taken by the next
//! scenario's mock once its stage drops, and a pooled connection must never reach the wrong one.

use std::sync::OnceLock;

/// Follows no redirect (the Docker engine's registry client decides itself what to follow).
pub fn no_redirects() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| build(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())))
        .clone()
}

/// reqwest's default redirect policy.
pub fn plain() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| build(reqwest::Client::builder())).clone()
}

fn build(b: reqwest::ClientBuilder) -> reqwest::Client {
    b.no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a plain HTTP client builds")
}
