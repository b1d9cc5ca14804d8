//! What a server's certificate is and what the runner host's Docker daemon trusts, in the words
//! users meet them: a certificate from a public CA (what the system store trusts), from the
//! instance's own CA, self-signed, expired, made out for another name, sent without its
//! intermediate, or no TLS at all; `/etc/docker/certs.d/HOST[:PORT]/ca.crt`, `insecure-registries`
//! in `daemon.json`, the instance's CA added to the system store. The servers issue the
//! certificates; the engine's handshake decides (docs/research/clients-tls.md).

use super::Authority;
use std::fmt;

/// A server's certificate (`certificate:` / `registry_certificate:` in a scenario).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    /// Issued by a public CA, as Let's Encrypt issues them: every system store trusts it.
    PublicCa,
    /// Issued by the instance's own CA: trusted only where that CA was installed.
    PrivateCa,
    /// Signed by its own key: trusted only where the certificate itself was installed.
    SelfSigned,
    /// Issued by a public CA, valid 2020-01-01 – 2021-01-01.
    Expired,
    /// Issued by a public CA's intermediate, which the server does not send.
    MissingIntermediate,
    /// Issued by a public CA for these names instead of the server's.
    ForOtherNames(Vec<String>),
    /// No TLS: the server speaks plain HTTP.
    PlainHttp,
}

/// The words a scenario uses, for messages.
pub const CERTIFICATE_WORDS: &str =
    "public-ca, private-ca, self-signed, expired, missing-intermediate, other-name:NAME[,NAME…] or plain-http";

impl Certificate {
    pub fn parse(text: &str) -> Result<Certificate, String> {
        Ok(match text.trim() {
            "public-ca" => Certificate::PublicCa,
            "private-ca" => Certificate::PrivateCa,
            "self-signed" => Certificate::SelfSigned,
            "expired" => Certificate::Expired,
            "missing-intermediate" => Certificate::MissingIntermediate,
            "plain-http" => Certificate::PlainHttp,
            t => match t.strip_prefix("other-name:") {
                Some(names) => {
                    let names: Vec<String> = names.split(',').map(|n| n.trim().to_string()).collect();
                    let valid = |n: &String| {
                        !n.is_empty()
                            && n.chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*'))
                    };
                    if !names.iter().all(valid) {
                        return Err(format!("`{t}`: other-name: takes DNS names separated by commas"));
                    }
                    Certificate::ForOtherNames(names)
                }
                None => return Err(format!("`{t}`: expected {CERTIFICATE_WORDS}")),
            },
        })
    }

    /// The default for a server named `host`: plain HTTP on loopback (where dockerd never checks
    /// a certificate), else a public CA's certificate, as on a correctly set-up instance.
    pub fn default_for(host: &Authority) -> Certificate {
        if host.is_loopback() {
            Certificate::PlainHttp
        } else {
            Certificate::PublicCa
        }
    }

    pub fn is_tls(&self) -> bool {
        *self != Certificate::PlainHttp
    }
}

impl fmt::Display for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Certificate::PublicCa => f.write_str("public-ca"),
            Certificate::PrivateCa => f.write_str("private-ca"),
            Certificate::SelfSigned => f.write_str("self-signed"),
            Certificate::Expired => f.write_str("expired"),
            Certificate::MissingIntermediate => f.write_str("missing-intermediate"),
            Certificate::ForOtherNames(n) => write!(f, "other-name:{}", n.join(",")),
            Certificate::PlainHttp => f.write_str("plain-http"),
        }
    }
}

/// What the runner host's dockerd trusts beyond the public CAs of its system store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonTls {
    /// Directories of `/etc/docker/certs.d/`, each named `host[:port]` as written: its `ca.crt`
    /// holds the certificate that vouches for the server of that host (its CA, or the certificate
    /// itself when self-signed). dockerd looks up the directory by the registry's name *with* its
    /// port, so `registry.example.com` does not serve `registry.example.com:5050`.
    pub certs_d: Vec<String>,
    /// `insecure-registries` of `/etc/docker/daemon.json` (`host[:port]`); `127.0.0.0/8` is
    /// always among them.
    pub insecure_registries: Vec<String>,
    /// The instance's CA added to the system store (`update-ca-certificates`, then a restart of
    /// dockerd).
    pub ca_in_system_store: bool,
}
