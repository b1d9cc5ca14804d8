//! dockerd's TLS client, on the wire: a real handshake with the mock (rustls), its certificate
//! checked in the order and words of Go's `crypto/x509` — expiry, then the host name, then the
//! chain (`Certificate.Verify`) — against the roots dockerd would use for that registry: the
//! system store plus `/etc/docker/certs.d/<host[:port]>/*.crt`. Registries on 127.0.0.0/8 or in
//! `insecure-registries` get no check, and plain HTTP when TLS fails. Facts:
//! docs/research/clients-tls.md.

use regsim_model::versions::docker::TlsWording;
use regsim_wire::tls::DaemonTrust;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Why a TLS connection failed, as Go tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// `x509: certificate signed by unknown authority`
    UnknownAuthority,
    /// `x509: certificate is valid for A, B, not HOST`
    NotValidFor { valid: Vec<String>, host: String },
    /// `x509: certificate has expired or is not yet valid: current time NOW is after NOT_AFTER`
    Expired { now: i64, not_after: i64 },
    /// `… current time NOW is before NOT_BEFORE`
    NotYetValid { now: i64, not_before: i64 },
    /// The server answered the ClientHello with `HTTP/…`: `http: server gave HTTP response to
    /// HTTPS client` (net/http's transport).
    HttpResponse,
    /// The first record was something else: `tls: first record does not look like a TLS handshake`.
    NotTls,
    /// Anything else (not modelled: the engine refuses to word it).
    Other(String),
}

impl TlsFailure {
    /// The text Go prints after `Op "URL": `.
    pub fn render(&self, wording: TlsWording) -> Result<String, String> {
        let rfc3339 = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default()
        };
        let x509 = match self {
            TlsFailure::HttpResponse => return Ok("http: server gave HTTP response to HTTPS client".into()),
            TlsFailure::NotTls => return Ok("tls: first record does not look like a TLS handshake".into()),
            TlsFailure::Other(why) => return Err(why.clone()),
            TlsFailure::UnknownAuthority => "x509: certificate signed by unknown authority".to_string(),
            TlsFailure::NotValidFor { valid, host } => {
                format!("x509: certificate is valid for {}, not {host}", valid.join(", "))
            }
            TlsFailure::Expired { now, not_after } if wording.expiry_detail => format!(
                "x509: certificate has expired or is not yet valid: current time {} is after {}",
                rfc3339(*now),
                rfc3339(*not_after)
            ),
            TlsFailure::NotYetValid { now, not_before } if wording.expiry_detail => format!(
                "x509: certificate has expired or is not yet valid: current time {} is before {}",
                rfc3339(*now),
                rfc3339(*not_before)
            ),
            TlsFailure::Expired { .. } | TlsFailure::NotYetValid { .. } => {
                "x509: certificate has expired or is not yet valid".to_string()
            }
        };
        Ok(if wording.verify_wrapper {
            format!("tls: failed to verify certificate: {x509}")
        } else {
            x509
        })
    }

    /// A short verdict for `explain`.
    pub fn verdict(&self) -> String {
        match self {
            TlsFailure::UnknownAuthority => "no trusted root vouches for the certificate".into(),
            TlsFailure::NotValidFor { valid, host } => {
                format!("the certificate is for {}, not {host}", valid.join(", "))
            }
            TlsFailure::Expired { .. } => "the certificate has expired".into(),
            TlsFailure::NotYetValid { .. } => "the certificate is not valid yet".into(),
            TlsFailure::HttpResponse => "the server speaks plain HTTP".into(),
            TlsFailure::NotTls => "the server does not speak TLS".into(),
            TlsFailure::Other(why) => why.clone(),
        }
    }
}

/// dockerd's rule for a registry `authority` (`host[:port]`): insecure when on 127.0.0.0/8 (or
/// `localhost`) or listed in `insecure-registries` (moby registry/config.go).
pub fn is_insecure(trust: &DaemonTrust, authority: &str) -> bool {
    let loopback = regsim_model::world::Authority::parse(authority).is_ok_and(|a| a.is_loopback());
    loopback
        || trust
            .insecure_registries
            .iter()
            .any(|i| i.eq_ignore_ascii_case(authority))
}

/// The roots dockerd checks a registry's servers against: a copy of the system pool plus the
/// `*.crt` of `certs.d/<authority>` (moby registry/registry.go `ReadCertsDirectory`), the
/// directory named exactly as the registry is, port included.
pub fn roots_for(trust: &DaemonTrust, authority: &str) -> Vec<Vec<u8>> {
    let mut roots = trust.system_roots.clone();
    roots.extend(
        trust
            .certs_d
            .iter()
            .filter(|(dir, _)| dir.eq_ignore_ascii_case(authority))
            .map(|(_, der)| der.clone()),
    );
    roots
}

/// How one connection's certificate is checked.
#[derive(Debug, Clone)]
pub struct Check {
    /// `None`: no check (an insecure registry's `InsecureSkipVerify`).
    pub roots: Option<Vec<Vec<u8>>>,
    /// The client's clock (Unix seconds).
    pub now: i64,
}

/// A TLS connection to `addr` for `host` (its SNI and the name checked), or why it failed.
pub async fn connect(
    addr: SocketAddr,
    host: &str,
    check: &Check,
) -> Result<tokio_rustls::client::TlsStream<Recorded>, TlsFailure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let failure = Arc::new(Mutex::new(None));
    let verifier = Arc::new(GoVerifier {
        check: check.clone(),
        host: host.to_string(),
        provider: provider.clone(),
        failure: failure.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsFailure::Other(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string()).map_err(|e| TlsFailure::Other(e.to_string()))?;
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| TlsFailure::Other(format!("regsim: cannot reach the mock at {addr}: {e}")))?;
    // As Go's net package does: a request's small writes must not wait for delayed ACKs.
    let _ = tcp.set_nodelay(true);
    let first = Arc::new(Mutex::new(Vec::new()));
    let stream = Recorded {
        inner: tcp,
        first: first.clone(),
    };
    match tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, stream)
        .await
    {
        Ok(s) => Ok(s),
        Err(e) => {
            if let Some(f) = failure.lock().expect("failure lock").take() {
                return Err(f);
            }
            let head = first.lock().expect("first lock").clone();
            if head.starts_with(b"HTTP/") {
                Err(TlsFailure::HttpResponse)
            } else if !head.is_empty() && head[0] != 0x16 {
                Err(TlsFailure::NotTls)
            } else {
                Err(TlsFailure::Other(format!("regsim: the TLS handshake failed: {e}")))
            }
        }
    }
}

/// Go's `Certificate.Verify` for a server certificate: expiry, host name, then the chain.
#[derive(Debug)]
struct GoVerifier {
    check: Check,
    host: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
    failure: Arc<Mutex<Option<TlsFailure>>>,
}

impl GoVerifier {
    fn verify(&self, leaf: &CertificateDer<'_>, intermediates: &[CertificateDer<'_>]) -> Result<(), TlsFailure> {
        use x509_cert::der::Decode as _;
        let Some(roots) = &self.check.roots else {
            return Ok(());
        };
        let cert = x509_cert::Certificate::from_der(leaf).map_err(|e| TlsFailure::Other(e.to_string()))?;
        let validity = &cert.tbs_certificate.validity;
        let secs = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
        let (not_before, not_after, now) = (secs(validity.not_before), secs(validity.not_after), self.check.now);
        if now < not_before {
            return Err(TlsFailure::NotYetValid { now, not_before });
        }
        if now > not_after {
            return Err(TlsFailure::Expired { now, not_after });
        }
        let names = dns_names(&cert);
        if !names.iter().any(|n| matches_host(n, &self.host)) {
            return Err(TlsFailure::NotValidFor {
                valid: names,
                host: self.host.clone(),
            });
        }
        // A certificate that is itself in the pool is trusted as it is (Go: `opts.Roots.contains`).
        if roots.iter().any(|r| r.as_slice() == leaf.as_ref()) {
            return Ok(());
        }
        let mut store = rustls::RootCertStore::empty();
        for r in roots {
            let _ = store.add(CertificateDer::from(r.clone()));
        }
        let webpki =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), self.provider.clone())
                .build()
                .map_err(|_| TlsFailure::UnknownAuthority)?;
        let name = ServerName::try_from(self.host.clone()).map_err(|e| TlsFailure::Other(e.to_string()))?;
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64));
        webpki
            .verify_server_cert(leaf, intermediates, &name, &[], at)
            .map(|_| ())
            .map_err(|_| TlsFailure::UnknownAuthority)
    }
}

impl ServerCertVerifier for GoVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.verify(end_entity, intermediates) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(f) => {
                *self.failure.lock().expect("failure lock") = Some(f);
                Err(rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The certificate's DNS names (subjectAltName), in order.
fn dns_names(cert: &x509_cert::Certificate) -> Vec<String> {
    use x509_cert::der::Decode as _;
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let san_oid = x509_cert::der::oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME;
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == san_oid)
        .filter_map(|e| SubjectAltName::from_der(e.extn_value.as_bytes()).ok())
        .flat_map(|san| san.0)
        .filter_map(|n| match n {
            GeneralName::DnsName(d) => Some(d.to_string()),
            _ => None,
        })
        .collect()
}

/// Go's `matchHostnames`: case-insensitive, a `*` only as the whole leftmost label.
fn matches_host(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    let h = h.trim_end_matches('.');
    match p.strip_prefix("*.") {
        Some(rest) => h.split_once('.').is_some_and(|(_, tail)| tail == rest),
        None => p == h,
    }
}

/// A TCP stream that keeps the first bytes the server sent (Go looks at the first record's
/// header to tell a plain-HTTP answer apart).
pub struct Recorded {
    inner: TcpStream,
    first: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Recorded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let mut first = self.first.lock().expect("first lock");
        if first.len() < 5 {
            let got = &buf.filled()[before..];
            let take = (5 - first.len()).min(got.len());
            first.extend_from_slice(&got[..take]);
        }
        r
    }
}

impl AsyncWrite for Recorded {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_match_as_go_matches_them() {
        assert!(matches_host("registry.example.com", "Registry.Example.com"));
        assert!(matches_host("*.example.com", "registry.example.com"));
        assert!(!matches_host("*.example.com", "a.registry.example.com"));
        assert!(!matches_host("gitlab.example.com", "registry.example.com"));
    }

    #[test]
    fn texts_follow_the_go_of_each_engine() {
        let old = TlsWording {
            verify_wrapper: false,
            expiry_detail: false,
        };
        let go119 = TlsWording {
            verify_wrapper: false,
            expiry_detail: true,
        };
        let go120 = TlsWording {
            verify_wrapper: true,
            expiry_detail: true,
        };
        let expired = TlsFailure::Expired {
            now: 1_700_000_000,
            not_after: 1_609_459_200,
        };
        assert_eq!(
            expired.render(old).unwrap(),
            "x509: certificate has expired or is not yet valid"
        );
        assert_eq!(
            expired.render(go119).unwrap(),
            "x509: certificate has expired or is not yet valid: current time 2023-11-14T22:13:20Z is after 2021-01-01T00:00:00Z"
        );
        assert_eq!(
            TlsFailure::UnknownAuthority.render(go120).unwrap(),
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        );
        assert_eq!(
            TlsFailure::HttpResponse.render(go120).unwrap(),
            "http: server gave HTTP response to HTTPS client"
        );
    }

    #[test]
    fn the_registry_directory_must_carry_the_port() {
        let trust = DaemonTrust {
            system_roots: vec![vec![1]],
            certs_d: vec![("registry.example.com".into(), vec![2])],
            insecure_registries: vec!["plain.example.com:5000".into()],
            now: 0,
        };
        assert_eq!(roots_for(&trust, "registry.example.com").len(), 2);
        assert_eq!(roots_for(&trust, "registry.example.com:5050").len(), 1);
        assert!(is_insecure(&trust, "plain.example.com:5000"));
        assert!(is_insecure(&trust, "127.0.0.1:5000"));
        assert!(!is_insecure(&trust, "plain.example.com"));
    }
}
