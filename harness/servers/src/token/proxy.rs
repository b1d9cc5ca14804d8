//! The Dependency Proxy's own JWT (gitlab-rails.md §5.2): HS256 (`JSONWebToken::HMACToken`,
//! header `typ: JWT`), keyed with `OpenSSL::HMAC.hexdigest('sha256', db_key_base,
//! 'gitlab-dependency-proxy')`, decoded with 60 s of leeway. No `iss`, `aud` or `sub`.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use regsim_wire::claims::ProxyClaims;
use sha2::Sha256;

/// The mock instance's `db_key_base` (any instance has its own secret one).
const DB_KEY_BASE: &str = "regsim-db-key-base";

/// The secret derived from the fixed `db_key_base`, computed once.
pub fn committed_proxy_secret() -> &'static str {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET.get_or_init(|| {
        let mut mac = Hmac::<Sha256>::new_from_slice(DB_KEY_BASE.as_bytes()).expect("any key length");
        mac.update(b"gitlab-dependency-proxy");
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    })
}

pub fn issue_proxy_token(claims: &ProxyClaims, secret: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".into());
    encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).expect("HS256 signing")
}

/// The claims of a token signed with `secret` and valid at `now`, or why not.
pub fn verify_proxy_token(token: &str, now: i64, secret: &str) -> Result<ProxyClaims, String> {
    let mut v = Validation::new(Algorithm::HS256);
    // The scenario's clock decides, not the machine's: check the times by hand below.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = decode::<ProxyClaims>(token, &DecodingKey::from_secret(secret.as_bytes()), &v)
        .map_err(|e| format!("not a proxy token of this instance: {e}"))?;
    let c = data.claims;
    const LEEWAY: i64 = 60;
    if now > c.exp + LEEWAY {
        return Err(format!("expired {} s ago", now - c.exp));
    }
    if now + LEEWAY < c.nbf {
        return Err("not valid yet".into());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_token_verifies_until_a_minute_past_its_expiry() {
        let c = ProxyClaims {
            jti: "j".into(),
            iat: 1000,
            nbf: 995,
            exp: 1300,
            user_id: Some(1),
            deploy_token: None,
            personal_access_token: None,
            group_access_token: None,
        };
        let s = committed_proxy_secret();
        let t = issue_proxy_token(&c, s);
        assert_eq!(verify_proxy_token(&t, 1300, s).unwrap(), c);
        assert!(verify_proxy_token(&t, 1360, s).is_ok());
        assert!(verify_proxy_token(&t, 1361, s).is_err());
        assert!(verify_proxy_token(&t, 1300, "another secret").is_err());
        let mut forged = t.clone();
        forged.push('x');
        assert!(verify_proxy_token(&forged, 1000, s).is_err());
    }
}
