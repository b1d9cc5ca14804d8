use data_encoding::BASE32_NOPAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The committed test key (harness/keys/README.md): loaded once per process, never generated
/// per scenario.
pub struct SigningKey {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub kid: String,
    /// PEM of the self-signed certificate, for registries that take a `rootcertbundle`.
    pub certificate_pem: &'static str,
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
            SigningKey {
                encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("committed key loads"),
                decoding: DecodingKey::from_rsa_pem(public_pem.as_bytes()).expect("public key loads"),
                kid: libtrust_kid(der.as_bytes()),
                certificate_pem: include_str!("../../keys/registry.crt"),
            }
        })
    }
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
