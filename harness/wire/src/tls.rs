//! What a Docker daemon trusts, as the certificates themselves: the stage that issued the mocks'
//! certificates writes it from the scenario's `docker:` settings; the simulated engine's TLS
//! client reads it and applies dockerd's rules (which directory of `certs.d` serves a registry,
//! which registries are insecure).

/// The runner host daemon's trust, in DER.
#[derive(Debug, Clone, Default)]
pub struct DaemonTrust {
    /// The system store: the public CAs (and the instance's CA where it was installed there).
    pub system_roots: Vec<Vec<u8>>,
    /// `/etc/docker/certs.d/<dir>/ca.crt`, by directory name (`host[:port]`).
    pub certs_d: Vec<(String, Vec<u8>)>,
    /// `insecure-registries` (`host[:port]`), besides 127.0.0.0/8.
    pub insecure_registries: Vec<String>,
    /// The daemon's clock, in Unix seconds: certificates are checked against it, and Go prints
    /// it in the expiry message.
    pub now: i64,
}
