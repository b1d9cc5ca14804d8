use data_encoding::BASE32_NOPAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use super::verify::RootCertificate;

/// A registry token signing key: the committed test key (harness/servers/keys/README.md), loaded
/// once per process, or one made at start (`regsim serve --fresh-keys`).
pub struct SigningKey {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub kid: String,
    pub public: rsa::RsaPublicKey,
    /// PEM of the self-signed certificate, for registries that take a `rootcertbundle`; a fresh
    /// key has none (the mock registry trusts it by `kid`).
    pub certificate_pem: &'static str,
    /// The same certificate as the mock registry's root bundle.
    pub root: Option<RootCertificate>,
}

impl SigningKey {
    pub fn shared() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| {
            let pem = include_str!("../../keys/registry.key");
            let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("committed key parses");
            let public = private.to_public_key();
            let der = public.to_public_key_der().expect("public key encodes");
            let public_pem = public.to_public_key_pem(LineEnding::LF).expect("public key encodes");
            let certificate_pem = include_str!("../../keys/registry.crt");
            let root = root_certificate(certificate_pem, &public).expect("committed certificate parses");
            SigningKey {
                encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("committed key loads"),
                decoding: DecodingKey::from_rsa_pem(public_pem.as_bytes()).expect("public key loads"),
                kid: libtrust_kid(der.as_bytes()),
                public,
                certificate_pem,
                root: Some(root),
            }
        })
    }

    /// A 2048-bit key made now (as large as Omnibus' default would cost too much per token at
    /// catalogue speed, but a workshop signs a handful).
    pub fn generate() -> Result<SigningKey, rsa::Error> {
        use rsa::pkcs8::EncodePrivateKey;
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
        let public = private.to_public_key();
        let der = public.to_public_key_der().map_err(|_| rsa::Error::Internal)?;
        let public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| rsa::Error::Internal)?;
        let private_pem = private.to_pkcs8_pem(LineEnding::LF).map_err(|_| rsa::Error::Internal)?;
        Ok(SigningKey {
            encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).map_err(|_| rsa::Error::Internal)?,
            decoding: DecodingKey::from_rsa_pem(public_pem.as_bytes()).map_err(|_| rsa::Error::Internal)?,
            kid: libtrust_kid(der.as_bytes()),
            public,
            certificate_pem: "",
            root: None,
        })
    }
}

/// The certificate of a PEM file, with its validity window; `key` must be its public key.
fn root_certificate(pem: &str, key: &rsa::RsaPublicKey) -> Result<RootCertificate, String> {
    use base64::Engine as _;
    use x509_cert::der::{Decode as _, Encode as _};
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| e.to_string())?;
    let cert = x509_cert::Certificate::from_der(&der).map_err(|e| e.to_string())?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    if spki != key.to_public_key_der().map_err(|e| e.to_string())?.as_bytes() {
        return Err("the certificate is not the signing key's".into());
    }
    let validity = &cert.tbs_certificate.validity;
    let secs = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    Ok(RootCertificate {
        not_before: secs(validity.not_before),
        not_after: secs(validity.not_after),
        der,
        key: key.clone(),
    })
}

/// libtrust's key ID: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32 without
/// padding, in groups of four joined by `:` (gitlab-rails.md §1.6; docker/libtrust keyIDEncode).
pub fn libtrust_kid(spki_der: &[u8]) -> String {
    let digest = Sha256::digest(spki_der);
    let b32 = BASE32_NOPAD.encode(&digest[..30]);
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_has_twelve_groups_of_four() {
        let kid = &SigningKey::shared().kid;
        assert_eq!(kid.len(), 48 + 11);
        assert_eq!(kid.split(':').count(), 12);
        assert!(
            kid.chars()
                .all(|c| c == ':' || c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
    }
}
