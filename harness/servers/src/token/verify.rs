//! What a registry checks before it serves a request, ported from distribution v2.8.2
//! `registry/auth/token/token.go` (`NewToken`, `Verify`, `VerifySigningKey`) and libtrust's
//! `rsa_key.go`, in their order: the token's three parts and their JSON, the issuer, the audience,
//! the time window (60 s leeway), a signature at all, the signing key (`x5c`, then `jwk`, then
//! `kid`), the signature; `covers` then decides `insufficient_scope`. The conformance suite
//! (tests/conformance/forged.rs) holds every branch here against the real distribution 2.8.2.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A certificate of the registry's root bundle (`auth.token.rootcertbundle`).
#[derive(Clone)]
pub struct RootCertificate {
    pub der: Vec<u8>,
    /// The validity window, in Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub key: RsaPublicKey,
}

pub struct Trust {
    /// libtrust key ID → key: distribution's `trustedKeys`, one per root certificate.
    pub keys: Vec<(String, RsaPublicKey)>,
    pub roots: Vec<RootCertificate>,
    pub issuer: String,
    pub service: String,
}

/// Why a token is refused. Every variant but `InsufficientScope` becomes `error="invalid_token"`
/// (distribution returns `ErrMalformedToken` or `ErrInvalidToken` for all of them).
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
            VerifyError::UnknownKey(k) => write!(f, "{k}"),
            VerifyError::BadSignature(m) => write!(f, "{m}"),
            VerifyError::WrongIssuer(i) => write!(f, "token from untrusted issuer: {i:?}"),
            VerifyError::WrongAudience => write!(f, "token intended for another audience"),
            VerifyError::Expired => write!(f, "token has expired"),
            VerifyError::NotYetValid => write!(f, "token used before time"),
            VerifyError::InsufficientScope => write!(f, "insufficient scope"),
        }
    }
}

/// token.go `Leeway`.
const LEEWAY: i64 = 60;

/// One `access` entry (token.go `ResourceActions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceActions {
    pub kind: String,
    pub class: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// token.go `ClaimSet`: what a registry reads of the claims. Fields the JSON leaves out keep
/// Go's zero values (a missing `exp` is 1970, so the token has expired).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimSet {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    pub expiration: i64,
    pub not_before: i64,
    pub issued_at: i64,
    pub jwt_id: String,
    pub access: Vec<ResourceActions>,
}

/// token.go `Header`.
#[derive(Debug, Default)]
struct Header {
    alg: String,
    kid: String,
    x5c: Vec<String>,
    jwk: Option<Value>,
}

/// util.go `joseBase64UrlDecode`: pad to a multiple of four, then Go's `base64.URLEncoding`
/// (which, not being `Strict`, ignores stray bits in the last character).
fn jose_b64(s: &str) -> Result<Vec<u8>, String> {
    let padded = match s.len() % 4 {
        0 => s.to_string(),
        2 => format!("{s}=="),
        3 => format!("{s}="),
        _ => return Err("illegal base64url string".into()),
    };
    lenient(base64::alphabet::URL_SAFE)
        .decode(padded)
        .map_err(|e| e.to_string())
}

/// Go's `base64.StdEncoding` (padding required, stray bits ignored), for `x5c` entries.
fn go_std_b64(s: &str) -> Result<Vec<u8>, String> {
    lenient(base64::alphabet::STANDARD).decode(s).map_err(|e| e.to_string())
}

fn lenient(alphabet: base64::alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        &alphabet,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
            .with_decode_allow_trailing_bits(true),
    )
}

/// The value `encoding/json` assigns to the struct field `name`: the last key equal to it,
/// ignoring ASCII case, as Go matches keys to fields.
fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .next_back()
}

/// A Go `string` field: `null` and absence leave `""`; any other type fails the unmarshal.
fn go_string(o: &Map<String, Value>, name: &str) -> Result<String, String> {
    match field(o, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(format!("cannot unmarshal {v} into field {name} of type string")),
    }
}

/// A Go `int64` field: only an integer literal in range unmarshals (`1.0` and `1e3` do not).
fn go_int64(o: &Map<String, Value>, name: &str) -> Result<i64, String> {
    match field(o, name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| format!("cannot unmarshal {v} into field {name} of type int64")),
    }
}

/// A Go `[]string` field.
fn go_strings(v: Option<&Value>, name: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::Null => Ok(String::new()),
                Value::String(s) => Ok(s.clone()),
                x => Err(format!("cannot unmarshal {x} into {name} of type string")),
            })
            .collect(),
        Some(v) => Err(format!("cannot unmarshal {v} into field {name} of type []string")),
    }
}

/// `json.Unmarshal` into a struct: an object, or `null` (which leaves every field zero).
fn go_object(v: &Value, what: &str) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(o) => Ok(o.clone()),
        Value::Null => Ok(Map::new()),
        v => Err(format!("cannot unmarshal {v} into {what}")),
    }
}

fn parse_header(json: &[u8]) -> Result<Header, String> {
    let v: Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let o = go_object(&v, "Header")?;
    Ok(Header {
        alg: go_string(&o, "alg")?,
        kid: go_string(&o, "kid")?,
        x5c: go_strings(field(&o, "x5c"), "x5c")?,
        // `*json.RawMessage`: JSON null leaves the pointer nil.
        jwk: field(&o, "jwk").filter(|v| !v.is_null()).cloned(),
    })
}

fn parse_claims(json: &[u8]) -> Result<ClaimSet, String> {
    let v: Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let o = go_object(&v, "ClaimSet")?;
    let access = match field(&o, "access") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            // A `null` entry is a nil pointer that distribution 2.8.2 dereferences when it builds
            // the access set (a panic, so no answer); not modelled: the entry is skipped.
            .filter(|e| !e.is_null())
            .map(|e| {
                let r = go_object(e, "ResourceActions")?;
                Ok(ResourceActions {
                    kind: go_string(&r, "type")?,
                    class: go_string(&r, "class")?,
                    name: go_string(&r, "name")?,
                    actions: go_strings(field(&r, "actions"), "actions")?,
                })
            })
            .collect::<Result<_, String>>()?,
        Some(v) => return Err(format!("cannot unmarshal {v} into field access")),
    };
    Ok(ClaimSet {
        issuer: go_string(&o, "iss")?,
        subject: go_string(&o, "sub")?,
        // A string in 2.8.2: a list of audiences does not unmarshal (v3 accepts one).
        audience: go_string(&o, "aud")?,
        expiration: go_int64(&o, "exp")?,
        not_before: go_int64(&o, "nbf")?,
        issued_at: go_int64(&o, "iat")?,
        jwt_id: go_string(&o, "jti")?,
        access,
    })
}

/// Verifies the token at `now` (the scenario clock, or the wall clock when a real registry takes
/// part). Scope is checked separately by `covers`, so a caller can tell `invalid_token` from
/// `insufficient_scope`.
pub fn verify(token: &str, trust: &Trust, now: i64) -> Result<ClaimSet, VerifyError> {
    // NewToken.
    let parts: Vec<&str> = token.split('.').collect();
    let [raw_header, raw_claims, raw_signature] = parts[..] else {
        return Err(VerifyError::Malformed(format!("{} parts, not 3", parts.len())));
    };
    fn malformed(what: &'static str) -> impl Fn(String) -> VerifyError {
        move |e| VerifyError::Malformed(format!("{what}: {e}"))
    }
    let header_json = jose_b64(raw_header).map_err(malformed("unable to decode header"))?;
    let claims_json = jose_b64(raw_claims).map_err(malformed("unable to decode claims"))?;
    let signature = jose_b64(raw_signature).map_err(malformed("unable to decode signature"))?;
    let header = parse_header(&header_json).map_err(malformed("header"))?;
    let claims = parse_claims(&claims_json).map_err(malformed("claims"))?;

    // Verify.
    if claims.issuer != trust.issuer {
        return Err(VerifyError::WrongIssuer(claims.issuer));
    }
    if claims.audience != trust.service {
        return Err(VerifyError::WrongAudience);
    }
    if now > claims.expiration + LEEWAY {
        return Err(VerifyError::Expired);
    }
    if now < claims.not_before - LEEWAY {
        return Err(VerifyError::NotYetValid);
    }
    if signature.is_empty() {
        return Err(VerifyError::BadSignature("token has no signature".into()));
    }
    let key = signing_key(&header, trust, now)?;
    let signed = &token[..raw_header.len() + 1 + raw_claims.len()];
    verify_signature(&key, &header.alg, signed.as_bytes(), &signature)?;
    Ok(claims)
}

/// `VerifySigningKey`: an `x5c` chain, else a `jwk`, else a `kid` among the trusted keys.
fn signing_key(h: &Header, trust: &Trust, now: i64) -> Result<RsaPublicKey, VerifyError> {
    if !h.x5c.is_empty() {
        return cert_chain(&h.x5c, trust, now).map_err(VerifyError::UnknownKey);
    }
    if let Some(jwk) = &h.jwk {
        return raw_jwk(jwk, trust, now).map_err(VerifyError::UnknownKey);
    }
    if !h.kid.is_empty() {
        return trust
            .keys
            .iter()
            .find(|(k, _)| *k == h.kid)
            .map(|(_, key)| key.clone())
            .ok_or_else(|| VerifyError::UnknownKey(format!("token signed by untrusted key with ID: {:?}", h.kid)));
    }
    Err(VerifyError::UnknownKey("unable to get token signing key".into()))
}

/// `parseAndVerifyCertChain`: every entry must decode and parse as a certificate, and the leaf
/// must verify up to a root at `now`. Modelled: a leaf that is itself one of the roots (how a
/// token signer's self-signed certificate is used). Not modelled: leaves issued by a root or
/// through intermediates (Go's x509 would accept them; only the holder of a root's private key
/// can make one, and no scenario signs that way), so they are refused here.
fn cert_chain(x5c: &[String], trust: &Trust, now: i64) -> Result<RsaPublicKey, String> {
    use x509_cert::der::Decode as _;
    let mut ders = Vec::new();
    for (i, c) in x5c.iter().enumerate() {
        let what = if i == 0 { "leaf" } else { "intermediate" };
        let der = go_std_b64(c).map_err(|e| format!("unable to decode {what} certificate: {e}"))?;
        x509_cert::Certificate::from_der(&der).map_err(|e| format!("unable to parse {what} certificate: {e}"))?;
        ders.push(der);
    }
    let root = trust
        .roots
        .iter()
        .find(|r| r.der == ders[0])
        .ok_or("unable to verify certificate chain: x509: certificate signed by unknown authority")?;
    if now < root.not_before || now > root.not_after {
        return Err("unable to verify certificate chain: x509: certificate has expired or is not yet valid".into());
    }
    Ok(root.key.clone())
}

/// `parseAndVerifyRawJWK` with libtrust's `UnmarshalPublicKeyJWK`: an RSA key (`n`, `e`, an
/// optional matching `kid`, no `d`) that is trusted itself, or whose own `x5c` chain verifies to
/// the same key. An `EC` key is never among the trusted RSA keys.
fn raw_jwk(jwk: &Value, trust: &Trust, now: i64) -> Result<RsaPublicKey, String> {
    let Value::Object(o) = jwk else {
        return Err("unable to decode raw JWK value".into());
    };
    let string = |k: &str| match o.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("JWK key {k:?} is not a string")),
        None => Err(format!("JWK is missing {k:?}")),
    };
    let kty = string("kty")?;
    if kty != "RSA" {
        return Err(format!("untrusted JWK of type {kty:?}"));
    }
    let n = BigUint::from_bytes_be(&jose_b64(&string("n")?)?);
    let e_bytes = jose_b64(&string("e")?)?;
    if e_bytes.len() > 4 {
        return Err("JWK RSA Public Key exponent too large".into());
    }
    let e = BigUint::from_bytes_be(&e_bytes);
    let key = RsaPublicKey::new(n, e).map_err(|e| format!("JWK RSA Public Key: {e}"))?;
    let id = key_id(&key)?;
    if o.contains_key("kid") && string("kid")? != id {
        return Err("JWK RSA Public Key ID does not match".into());
    }
    if o.contains_key("d") {
        return Err("JWK RSA Public Key cannot contain private exponent".into());
    }
    match o.get("x5c") {
        Some(Value::Array(chain)) => {
            let chain: Vec<String> = chain
                .iter()
                .map(|c| match c {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err("malformed certificate chain".to_string()),
                })
                .collect::<Result<_, _>>()?;
            let leaf =
                cert_chain(&chain, trust, now).map_err(|e| format!("could not verify JWK certificate chain: {e}"))?;
            if key_id(&leaf)? != id {
                return Err("leaf certificate public key ID does not match JWK key ID".into());
            }
            Ok(key)
        }
        _ if trust.keys.iter().any(|(k, _)| *k == id) => Ok(key),
        _ => Err("untrusted JWK with no certificate chain".into()),
    }
}

/// libtrust's key ID of an RSA public key.
fn key_id(key: &RsaPublicKey) -> Result<String, String> {
    use rsa::pkcs8::EncodePublicKey as _;
    let der = key.to_public_key_der().map_err(|e| e.to_string())?;
    Ok(super::libtrust_kid(der.as_bytes()))
}

/// libtrust `rsaPublicKey.Verify`: RS256, RS384 or RS512, PKCS #1 v1.5.
fn verify_signature(key: &RsaPublicKey, alg: &str, signed: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let bad = |e: String| VerifyError::BadSignature(format!("unable to verify token signature: {e}"));
    let (scheme, digest) = match alg {
        "RS256" => (Pkcs1v15Sign::new::<Sha256>(), Sha256::digest(signed).to_vec()),
        "RS384" => (Pkcs1v15Sign::new::<Sha384>(), Sha384::digest(signed).to_vec()),
        "RS512" => (Pkcs1v15Sign::new::<Sha512>(), Sha512::digest(signed).to_vec()),
        other => {
            return Err(bad(format!(
                "unable to verify Signature: RSA Digital Signature Algorithm {other:?} not supported"
            )));
        }
    };
    if signature.len() != key.size() {
        return Err(bad("crypto/rsa: verification error".into()));
    }
    key.verify(scheme, &digest, signature)
        .map_err(|_| bad(format!("invalid {alg} signature: crypto/rsa: verification error")))
}

/// Whether the token's `access` allows `action` on `kind:name` (util.go `actionSet.contains`:
/// `*` allows everything).
pub fn covers(claims: &ClaimSet, kind: &str, name: &str, action: &str) -> bool {
    claims
        .access
        .iter()
        .any(|a| a.kind == kind && a.name == name && a.actions.iter().any(|x| x == action || x == "*"))
}

/// What a registry configured with `key`'s certificate as its root bundle trusts.
pub fn trust_for(key: &super::SigningKey, issuer: &str, service: &str) -> Trust {
    Trust {
        keys: vec![(key.kid.clone(), key.public.clone())],
        roots: key.root.iter().cloned().collect(),
        issuer: issuer.into(),
        service: service.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{IssueRequest, SigningKey, issue};
    use super::*;
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    use regsim_model::policy::Access;

    const NOW: i64 = 1_700_000_000;

    fn token(now: i64, issuer: &str, service: &str) -> String {
        let access = [Access {
            kind: regsim_wire::scope::ResourceType::Repository,
            name: "a/b".into(),
            actions: vec!["pull".into()],
            project: None,
        }];
        issue(IssueRequest {
            key: SigningKey::shared(),
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

    fn claims_with(f: impl Fn(&mut Value)) -> Value {
        let mut c = serde_json::json!({
            "iss": "iss", "aud": "container_registry", "exp": NOW + 300, "nbf": NOW - 5,
            "access": [{"type": "repository", "name": "a/b", "actions": ["pull"]}],
        });
        f(&mut c);
        c
    }

    fn sign(h: &Header, c: &Value) -> String {
        encode(h, c, &SigningKey::shared().encoding).unwrap()
    }

    fn rs(alg: Algorithm) -> Header {
        let mut h = Header::new(alg);
        h.kid = Some(SigningKey::shared().kid.clone());
        h
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
        // HS256, even with the right kid: libtrust's RSA key knows no HMAC.
        let other = EncodingKey::from_secret(b"not the key");
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(SigningKey::shared().kid.clone());
        let hs = encode(&h, &claims_with(|_| {}), &other).unwrap();
        assert!(matches!(verify(&hs, &trust(), NOW), Err(VerifyError::BadSignature(_))));
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[2] = "AAAA";
        assert!(matches!(
            verify(&parts.join("."), &trust(), NOW),
            Err(VerifyError::BadSignature(_))
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
        assert!(matches!(verify("a.b", &trust(), NOW), Err(VerifyError::Malformed(_))));
    }

    /// Corners where Go's decoding or libtrust decide (distribution 2.8.2 observed in
    /// tests/conformance/forged.rs).
    #[test]
    fn distribution_corners() {
        let ok = |t: &str| verify(t, &trust(), NOW).is_ok();
        // RS384 and RS512 verify like RS256.
        assert!(ok(&sign(&rs(Algorithm::RS384), &claims_with(|_| {}))));
        assert!(ok(&sign(&rs(Algorithm::RS512), &claims_with(|_| {}))));
        // No jti, iat, nbf or sub needed; no exp is 1970.
        assert!(ok(&sign(&rs(Algorithm::RS256), &claims_with(|_| {}))));
        let no_exp = claims_with(|c| drop(c.as_object_mut().unwrap().remove("exp")));
        assert_eq!(
            verify(&sign(&rs(Algorithm::RS256), &no_exp), &trust(), NOW),
            Err(VerifyError::Expired)
        );
        // aud is a string; a list does not unmarshal, nor does a float exp.
        let list = claims_with(|c| c["aud"] = serde_json::json!(["container_registry"]));
        assert!(matches!(
            verify(&sign(&rs(Algorithm::RS256), &list), &trust(), NOW),
            Err(VerifyError::Malformed(_))
        ));
        let float = claims_with(|c| c["exp"] = serde_json::json!((NOW + 300) as f64));
        assert!(matches!(
            verify(&sign(&rs(Algorithm::RS256), &float), &trust(), NOW),
            Err(VerifyError::Malformed(_))
        ));
        // Go matches keys to fields ignoring case.
        let upper = claims_with(|c| {
            let iss = c.as_object_mut().unwrap().remove("iss").unwrap();
            c["ISS"] = iss;
        });
        assert!(ok(&sign(&rs(Algorithm::RS256), &upper)));
        // x5c holding the root certificate, no kid, while the certificate is valid (NOW is
        // before the committed certificate's notBefore).
        let root = SigningKey::shared().root.as_ref().unwrap();
        let mut x5c = Header::new(Algorithm::RS256);
        x5c.x5c = Some(vec![base64::engine::general_purpose::STANDARD.encode(&root.der)]);
        let at = |t: i64| {
            claims_with(move |c| {
                c["exp"] = serde_json::json!(t + 300);
                c["nbf"] = serde_json::json!(t);
            })
        };
        let inside = root.not_before + 3600;
        assert!(verify(&sign(&x5c, &at(inside)), &trust(), inside).is_ok());
        assert!(matches!(
            verify(&sign(&x5c, &claims_with(|_| {})), &trust(), NOW),
            Err(VerifyError::UnknownKey(_))
        ));
        // x5c wins over a good kid.
        let mut both = rs(Algorithm::RS256);
        both.x5c = Some(vec!["AAAA".into()]);
        assert!(matches!(
            verify(&sign(&both, &claims_with(|_| {})), &trust(), NOW),
            Err(VerifyError::UnknownKey(_))
        ));
        // "*" grants every action.
        let star = claims_with(|c| c["access"][0]["actions"] = serde_json::json!(["*"]));
        let c = verify(&sign(&rs(Algorithm::RS256), &star), &trust(), NOW).unwrap();
        assert!(covers(&c, "repository", "a/b", "push"));
    }
}
