//! TLS for the mocks: a certificate authority made at run time, and server certificates in the
//! shapes users meet — issued by that CA (trusted by a client that has the CA, e.g. in
//! `/etc/docker/certs.d/HOST[:PORT]/ca.crt`), self-signed, expired, made out for another name,
//! or issued by an intermediate the server does not send. [`ServerTls`] is what a
//! [`crate::listen::Listener`] serves HTTPS with.
//!
//! Certificates are made with rcgen and served with rustls, both on *ring*. Keys are ECDSA P-256,
//! which every Go TLS client a Docker engine was built with accepts. Validity is measured against
//! the machine's clock (a real client checks against its own clock, not the scenario's), except
//! for the expired certificate, whose dates are fixed so that the client's message is known:
//! Go says `current time <now> is after 2021-01-01T00:00:00Z`.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// When the expired certificate's validity began.
pub const EXPIRED_NOT_BEFORE: OffsetDateTime = time::macros::datetime!(2020-01-01 00:00:00 UTC);
/// When the expired certificate's validity ended (the time a client's message names).
pub const EXPIRED_NOT_AFTER: OffsetDateTime = time::macros::datetime!(2021-01-01 00:00:00 UTC);

/// Why a certificate or a server's TLS setup could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("a certificate needs at least one name")]
    NoNames,
    #[error("cannot make the certificate for {names}: {source}")]
    Certificate { names: String, source: rcgen::Error },
    #[error("cannot make the certificate authority: {0}")]
    Authority(rcgen::Error),
    #[error("rustls refuses the server's certificate: {0}")]
    Server(rustls::Error),
}

/// What a server's certificate is, in the words users meet it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// Issued by the run's CA for the server's names: a client that trusts the CA accepts it.
    Issued,
    /// Issued by the run's intermediate CA; the server sends the intermediate with it, so a
    /// client that trusts the root CA accepts it.
    ViaIntermediate,
    /// Issued by the run's intermediate CA, but the server sends the leaf alone: a client that
    /// trusts only the root CA cannot build the chain.
    MissingIntermediate,
    /// Signed by its own key: no CA vouches for it.
    SelfSigned,
    /// Issued by the run's CA, valid from [`EXPIRED_NOT_BEFORE`] to [`EXPIRED_NOT_AFTER`].
    Expired,
    /// Issued by the run's CA for these names instead of the server's.
    ForOtherNames(Vec<String>),
}

impl Leaf {
    /// A short name for messages and test tables.
    pub fn as_str(&self) -> &'static str {
        match self {
            Leaf::Issued => "issued by the CA",
            Leaf::ViaIntermediate => "issued by an intermediate, chain sent",
            Leaf::MissingIntermediate => "issued by an intermediate, intermediate not sent",
            Leaf::SelfSigned => "self-signed",
            Leaf::Expired => "expired",
            Leaf::ForOtherNames(_) => "for another name",
        }
    }
}

/// One run's certificate authority: a root and an intermediate below it, made at run time and
/// never written anywhere but where a test or user puts [`Ca::pem`].
pub struct Ca {
    root: Issuer<'static, KeyPair>,
    root_der: CertificateDer<'static>,
    root_pem: String,
    intermediate: Issuer<'static, KeyPair>,
    intermediate_der: CertificateDer<'static>,
    now: OffsetDateTime,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").field("made", &self.now).finish_non_exhaustive()
    }
}

impl Ca {
    /// A fresh root (`CN=<name>`) and intermediate (`CN=<name> Intermediate`), valid from a day
    /// before now for a year.
    pub fn new(name: &str) -> Result<Ca, TlsError> {
        Self::at(name, OffsetDateTime::now_utc())
    }

    /// Like [`Ca::new`], with `now` as the current time (certificates are valid around it).
    pub fn at(name: &str, now: OffsetDateTime) -> Result<Ca, TlsError> {
        let authority = |cn: &str, path_len: BasicConstraints| {
            let mut p = CertificateParams::default();
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.distinguished_name.push(DnType::OrganizationName, "regsim");
            p.is_ca = IsCa::Ca(path_len);
            p.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            p.not_before = now - Duration::days(1);
            p.not_after = now + Duration::days(365);
            p.use_authority_key_identifier_extension = true;
            p
        };
        let root_key = KeyPair::generate().map_err(TlsError::Authority)?;
        let root_params = authority(name, BasicConstraints::Unconstrained);
        let root_cert = root_params.self_signed(&root_key).map_err(TlsError::Authority)?;
        let root = Issuer::new(root_params, root_key);
        let mid_key = KeyPair::generate().map_err(TlsError::Authority)?;
        let mid_params = authority(&format!("{name} Intermediate"), BasicConstraints::Constrained(0));
        let mid_cert = mid_params.signed_by(&mid_key, &root).map_err(TlsError::Authority)?;
        Ok(Ca {
            root_der: root_cert.der().clone(),
            root_pem: root_cert.pem(),
            root,
            intermediate_der: mid_cert.der().clone(),
            intermediate: Issuer::new(mid_params, mid_key),
            now,
        })
    }

    /// The root certificate, PEM: what goes into `/etc/docker/certs.d/HOST[:PORT]/ca.crt`, a
    /// runner's `tls-ca-file` or a system trust store.
    pub fn pem(&self) -> &str {
        &self.root_pem
    }

    /// The root certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.root_der
    }

    /// A server certificate of the given kind for `names` (DNS names, or IP addresses, which
    /// become IP SANs). The first name is also the subject's common name.
    pub fn leaf(&self, names: &[&str], kind: &Leaf) -> Result<ServerCertificate, TlsError> {
        let first = names.first().ok_or(TlsError::NoNames)?;
        let sans: Vec<String> = match kind {
            Leaf::ForOtherNames(others) => others.clone(),
            _ => names.iter().map(|n| n.to_string()).collect(),
        };
        if sans.is_empty() {
            return Err(TlsError::NoNames);
        }
        let failed = |source| TlsError::Certificate {
            names: sans.join(", "),
            source,
        };
        let mut p = CertificateParams::new(sans.clone()).map_err(failed)?;
        p.distinguished_name = rcgen::DistinguishedName::new();
        let cn = match kind {
            Leaf::ForOtherNames(_) => sans[0].as_str(),
            _ => first,
        };
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.use_authority_key_identifier_extension = !matches!(kind, Leaf::SelfSigned);
        (p.not_before, p.not_after) = match kind {
            Leaf::Expired => (EXPIRED_NOT_BEFORE, EXPIRED_NOT_AFTER),
            _ => (self.now - Duration::days(1), self.now + Duration::days(90)),
        };
        let key = KeyPair::generate().map_err(failed)?;
        let (leaf, chain_tail) = match kind {
            Leaf::SelfSigned => (p.self_signed(&key).map_err(failed)?, vec![]),
            Leaf::ViaIntermediate => (
                p.signed_by(&key, &self.intermediate).map_err(failed)?,
                vec![self.intermediate_der.clone()],
            ),
            Leaf::MissingIntermediate => (p.signed_by(&key, &self.intermediate).map_err(failed)?, vec![]),
            Leaf::Issued | Leaf::Expired | Leaf::ForOtherNames(_) => {
                (p.signed_by(&key, &self.root).map_err(failed)?, vec![])
            }
        };
        let mut chain = vec![leaf.der().clone()];
        chain.extend(chain_tail);
        Ok(ServerCertificate {
            kind: kind.clone(),
            names: sans,
            not_after: p.not_after,
            chain,
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// A server's certificate chain (what it sends, leaf first) and its private key.
pub struct ServerCertificate {
    pub kind: Leaf,
    /// The names in the certificate (its subject alternative names).
    pub names: Vec<String>,
    pub not_after: OffsetDateTime,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCertificate")
            .field("kind", &self.kind)
            .field("names", &self.names)
            .field("not_after", &self.not_after)
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl ServerCertificate {
    /// The certificates the server sends, leaf first, each DER.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The leaf, PEM (for a user who trusts one certificate rather than a CA).
    pub fn leaf_pem(&self) -> String {
        pem_block(&self.chain[0])
    }

    /// What the server answers a TLS client with.
    pub fn server_tls(&self) -> Result<ServerTls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Server)?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), PrivateKeyDer::Pkcs8(self.key.clone_key()))
            .map_err(TlsError::Server)?;
        // The listener speaks HTTP/1.1 only; a Go client that offers h2 falls back to it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            kind: self.kind.clone(),
        })
    }
}

/// A server's TLS: certificate, key and protocol settings, shared by its connections.
#[derive(Clone)]
pub struct ServerTls {
    pub(crate) config: Arc<rustls::ServerConfig>,
    pub kind: Leaf,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// `-----BEGIN CERTIFICATE-----`, base64 in lines of 64, `-----END CERTIFICATE-----`.
pub fn pem_block(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
