//! What a registry checks before it serves a request (distribution v2.8.2
//! `registry/auth/token`; /tmp-free summary in the project README): the key, the signature, the
//! issuer, the audience, the time window (60 s leeway), then whether `access` covers the request.

use super::claims::Claims;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

pub struct Trust {
    /// `kid` → key, like distribution's trusted keys from the root certificate bundle.
    pub keys: Vec<(String, DecodingKey)>,
    pub issuer: String,
    pub service: String,
}

/// Why a token is refused. Every variant but `InsufficientScope` becomes `error="invalid_token"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    Malformed(String),
    UnknownKey(String),
    BadSignature(String),
    WrongIssuer(String),
    WrongAudience,
    Expired,
    NotYetValid,
    InsufficientScope,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Malformed(m) => write!(f, "malformed token: {m}"),
            VerifyError::UnknownKey(k) => write!(f, "token signed by untrusted key with ID: {k:?}"),
            VerifyError::BadSignature(m) => write!(f, "invalid token signature: {m}"),
            VerifyError::WrongIssuer(i) => write!(f, "token from untrusted issuer: {i:?}"),
            VerifyError::WrongAudience => write!(f, "token intended for another audience"),
            VerifyError::Expired => write!(f, "token has expired"),
            VerifyError::NotYetValid => write!(f, "token used before time"),
            VerifyError::InsufficientScope => write!(f, "insufficient scope"),
        }
    }
}

const LEEWAY: i64 = 60;

/// Verifies signature and claims at `now` (the scenario clock). Scope is checked separately by
/// `covers`, so a caller can tell `invalid_token` from `insufficient_scope`.
pub fn verify(token: &str, trust: &Trust, now: i64) -> Result<Claims, VerifyError> {
    let header = decode_header(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if header.alg != Algorithm::RS256 {
        return Err(VerifyError::BadSignature(format!(
            "algorithm {:?} is not trusted",
            header.alg
        )));
    }
    let kid = header.kid.unwrap_or_default();
    let key = trust
        .keys
        .iter()
        .find(|(k, _)| *k == kid)
        .map(|(_, d)| d)
        .ok_or(VerifyError::UnknownKey(kid))?;
    let mut v = Validation::new(Algorithm::RS256);
    // Time and audience are checked below against the scenario clock, not the system's.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = decode::<Claims>(token, key, &v).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => VerifyError::BadSignature(e.to_string()),
        _ => VerifyError::Malformed(e.to_string()),
    })?;
    let c = data.claims;
    if c.iss != trust.issuer {
        return Err(VerifyError::WrongIssuer(c.iss));
    }
    if !c.aud.contains(&trust.service) {
        return Err(VerifyError::WrongAudience);
    }
    match c.exp {
        Some(exp) if now <= exp + LEEWAY => {}
        _ => return Err(VerifyError::Expired),
    }
    if now + LEEWAY < c.nbf {
        return Err(VerifyError::NotYetValid);
    }
    Ok(c)
}

/// Whether the token's `access` allows `action` on `kind:name` (`*` allows everything).
pub fn covers(claims: &Claims, kind: &str, name: &str, action: &str) -> bool {
    claims
        .access
        .iter()
        .any(|a| a.kind == kind && a.name == name && a.actions.iter().any(|x| x == action || x == "*"))
}

pub fn trust_for(key: &super::SigningKey, issuer: &str, service: &str) -> Trust {
    Trust {
        keys: vec![(key.kid.clone(), key.decoding.clone())],
        issuer: issuer.into(),
        service: service.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{IssueRequest, SigningKey, issue};
    use super::*;
    use crate::policy::Access;
    use jsonwebtoken::{EncodingKey, Header, encode};

    const NOW: i64 = 1_700_000_000;

    fn token(now: i64, issuer: &str, service: &str) -> String {
        let access = [Access {
            kind: "repository".into(),
            name: "a/b".into(),
            actions: vec!["pull".into()],
            project: None,
        }];
        issue(IssueRequest {
            jti: "j".into(),
            service,
            issuer,
            now,
            expire_minutes: 5,
            sub: Some("u".into()),
            access: &access,
            meta: None,
            auth_type: "build",
            user_info: None,
        })
    }

    fn trust() -> Trust {
        trust_for(SigningKey::shared(), "iss", "container_registry")
    }

    #[test]
    fn verification_table() {
        let good = token(NOW, "iss", "container_registry");
        let c = verify(&good, &trust(), NOW).unwrap();
        assert!(covers(&c, "repository", "a/b", "pull"));
        assert!(!covers(&c, "repository", "a/b", "push"));
        assert!(!covers(&c, "repository", "a/c", "pull"));
        // exp is iat + 5 min; 60 s of leeway either side.
        assert!(verify(&good, &trust(), NOW + 300 + 60).is_ok());
        assert_eq!(verify(&good, &trust(), NOW + 300 + 61), Err(VerifyError::Expired));
        assert!(verify(&good, &trust(), NOW - 5 - 60).is_ok());
        assert_eq!(verify(&good, &trust(), NOW - 5 - 61), Err(VerifyError::NotYetValid));
        assert!(matches!(
            verify(&token(NOW, "other", "container_registry"), &trust(), NOW),
            Err(VerifyError::WrongIssuer(_))
        ));
        assert_eq!(
            verify(&token(NOW, "iss", "dependency_proxy"), &trust(), NOW),
            Err(VerifyError::WrongAudience)
        );
        // Signed by a key the registry does not trust (same kid, other key: the signature fails).
        let other = EncodingKey::from_secret(b"not the key");
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(SigningKey::shared().kid.clone());
        let hs = encode(&h, &serde_json::json!({"iss": "iss"}), &other).unwrap();
        assert!(matches!(verify(&hs, &trust(), NOW), Err(VerifyError::BadSignature(_))));
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[2] = "AAAA";
        assert!(matches!(
            verify(&parts.join("."), &trust(), NOW),
            Err(VerifyError::BadSignature(_) | VerifyError::Malformed(_))
        ));
        let unknown = Trust {
            keys: vec![],
            ..trust()
        };
        assert!(matches!(verify(&good, &unknown, NOW), Err(VerifyError::UnknownKey(_))));
        assert!(matches!(
            verify("not.a.jwt", &trust(), NOW),
            Err(VerifyError::Malformed(_))
        ));
    }
}
