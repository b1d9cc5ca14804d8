//! Forged and broken tokens, sent to the mock registry and to distribution 2.8.2 alike: each must
//! get the same status and the same challenge (`error="invalid_token"` or
//! `error="insufficient_scope"`, and the scope asked for) from both, on the `/v2/` base and on a
//! manifest. distribution's verdicts come from `registry/auth/token/token.go` and
//! `accesscontroller.go` at v2.8.2; here they are observed, not assumed.

use crate::table::{Check, FORGED};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use regsim_servers::token::{SigningKey, libtrust_kid};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use std::net::SocketAddr;

const PRIVATE_KEY: &str = include_str!("../../harness/servers/keys/registry.key");

pub struct Target<'a> {
    pub issuer: &'a str,
    pub repository: &'a str,
    pub tag: &'a str,
    pub now: i64,
}

fn claims(t: &Target<'_>, repository: &str) -> Value {
    json!({
        "jti": "regsim-conformance-forged",
        "aud": "container_registry",
        "sub": "forger",
        "iss": t.issuer,
        "iat": t.now,
        "nbf": t.now - 5,
        "exp": t.now + 300,
        "access": [{"type": "repository", "name": repository, "actions": ["pull"]}],
    })
}

fn header(alg: Algorithm) -> Header {
    let mut h = Header::new(alg);
    h.kid = Some(SigningKey::shared().kid.clone());
    h
}

fn sign(h: &Header, c: &Value) -> String {
    encode(h, c, &SigningKey::shared().encoding).expect("signing with the committed key")
}

/// A token with a header jsonwebtoken cannot express (a `jwk`), signed RS256 with the mock's key.
fn raw(header: Value, claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"));
    let signed = format!("{}.{}", b64(&header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), &SigningKey::shared().encoding, Algorithm::RS256)
        .expect("signing with the committed key");
    format!("{signed}.{signature}")
}

fn public_key_pem() -> String {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    let k = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_KEY).expect("committed key parses");
    k.to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("public key encodes")
}

fn certificate_der_base64() -> String {
    SigningKey::shared()
        .certificate_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect()
}

/// `(name, token)`: a control, the forgeries the issue lists, and the corners where the mock was
/// found to differ from distribution 2.8.2 (and was fixed).
pub fn tokens(t: &Target<'_>) -> Vec<(&'static str, Option<String>)> {
    let good = claims(t, t.repository);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        f(&mut c);
        c
    };
    let rs256 = header(Algorithm::RS256);
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"));

    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"typ": "JWT", "alg": "none", "kid": SigningKey::shared().kid})),
        b64(&good)
    );
    let hs256 = encode(
        &header(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(public_key_pem().as_bytes()),
    )
    .expect("HMAC signing");
    let mut unknown_kid = Header::new(Algorithm::RS256);
    unknown_kid.kid = Some(libtrust_kid(b"not the key regsim signs with"));
    // A valid token with empty access, its claims swapped for ones granting pull: the signature
    // no longer matches.
    let honest = sign(&rs256, &with(&|c| c["access"] = json!([])));
    let parts: Vec<&str> = honest.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&good), parts[2]);
    let mut x5c = Header::new(Algorithm::RS256);
    x5c.x5c = Some(vec![certificate_der_base64()]);
    let mut bad_x5c = Header::new(Algorithm::RS256);
    bad_x5c.x5c = Some(vec![URL_SAFE_NO_PAD.encode(b"not a certificate")]);
    let mut bad_x5c_with_kid = bad_x5c.clone();
    bad_x5c_with_kid.kid = Some(SigningKey::shared().kid.clone());
    let public = &SigningKey::shared().public;
    let jwk = json!({
        "kty": "RSA",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    });
    let mut jwk_wrong_kid = jwk.clone();
    jwk_wrong_kid["kid"] = json!(libtrust_kid(b"another key"));
    let upper_case = {
        let mut c = serde_json::Map::new();
        for (k, v) in good.as_object().expect("object") {
            c.insert(k.to_uppercase(), v.clone());
        }
        Value::Object(c)
    };
    // A valid signature, but over other claims (the control token's with another jti).
    let other = sign(&rs256, &with(&|c| c["jti"] = json!("another")));
    let control = sign(&rs256, &good);
    let spliced = format!(
        "{}.{}",
        control.rsplit_once('.').map_or("", |(head, _)| head),
        other.rsplit('.').next().unwrap_or_default()
    );

    vec![
        ("no token", None),
        ("valid token (control)", Some(sign(&rs256, &good))),
        ("alg none, no signature", Some(alg_none)),
        ("HS256 keyed with the public key", Some(hs256)),
        (
            "expired (exp 10 min ago)",
            Some(sign(
                &rs256,
                &with(&|c| {
                    c["iat"] = json!(t.now - 900);
                    c["nbf"] = json!(t.now - 900);
                    c["exp"] = json!(t.now - 600);
                }),
            )),
        ),
        (
            "not yet valid (nbf in 10 min)",
            Some(sign(
                &rs256,
                &with(&|c| {
                    c["nbf"] = json!(t.now + 600);
                    c["exp"] = json!(t.now + 900);
                }),
            )),
        ),
        (
            "wrong aud",
            Some(sign(&rs256, &with(&|c| c["aud"] = json!("dependency_proxy")))),
        ),
        (
            "wrong iss",
            Some(sign(&rs256, &with(&|c| c["iss"] = json!("another-gitlab-issuer")))),
        ),
        ("unknown kid", Some(sign(&unknown_kid, &good))),
        ("tampered access", Some(tampered)),
        (
            "token for another repository",
            Some(sign(&rs256, &claims(t, "other/project/image"))),
        ),
        (
            "no exp claim",
            Some(sign(
                &rs256,
                &with(&|c| drop(c.as_object_mut().map(|o| o.remove("exp")))),
            )),
        ),
        // distribution 2.8.2's ClaimSet.Audience is a string: a list does not unmarshal.
        (
            "aud as a list",
            Some(sign(&rs256, &with(&|c| c["aud"] = json!(["container_registry"])))),
        ),
        // libtrust verifies RS256, RS384 and RS512 alike (rsa_key.go).
        ("RS512 by the trusted key", Some(sign(&header(Algorithm::RS512), &good))),
        // distribution needs none of jti, iat, nbf, sub.
        (
            "only iss, aud, exp, access",
            Some(sign(
                &rs256,
                &with(&|c| {
                    let o = c.as_object_mut().expect("object");
                    for k in ["jti", "iat", "nbf", "sub"] {
                        o.remove(k);
                    }
                }),
            )),
        ),
        // x5c instead of kid: distribution verifies the chain against its root bundle.
        ("x5c: the trusted certificate, no kid", Some(sign(&x5c, &good))),
        ("x5c: not a certificate", Some(sign(&bad_x5c, &good))),
        // x5c comes first: a good kid does not save a bad chain.
        (
            "x5c: not a certificate, trusted kid",
            Some(sign(&bad_x5c_with_kid, &good)),
        ),
        // A JWK in the header is trusted when its libtrust key ID is.
        (
            "jwk: the trusted key, no kid",
            Some(raw(json!({"typ": "JWT", "alg": "RS256", "jwk": jwk.clone()}), &good)),
        ),
        (
            "jwk: the trusted key, wrong kid inside",
            Some(raw(json!({"typ": "JWT", "alg": "RS256", "jwk": jwk_wrong_kid}), &good)),
        ),
        (
            "jwk: an EC key",
            Some(raw(
                json!({"typ": "JWT", "alg": "RS256", "jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}),
                &good,
            )),
        ),
        // Go's encoding/json: keys match fields ignoring case; an int64 takes no float.
        ("claim keys in upper case", Some(sign(&rs256, &upper_case))),
        (
            "exp written as a float",
            Some(sign(&rs256, &with(&|c| c["exp"] = json!(t.now as f64 + 300.5)))),
        ),
        ("RS384 by the trusted key", Some(sign(&header(Algorithm::RS384), &good))),
        ("PS256 by the trusted key", Some(sign(&header(Algorithm::PS256), &good))),
        ("signature of another token", Some(spliced)),
    ]
}

/// What a registry answered: status, then the challenge's `error` and `scope`.
async fn answer(http: &reqwest::Client, url: &str, token: Option<&str>) -> String {
    let mut req = http.get(url).header("Accept", regsim_wire::media::MANIFEST_V2);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    match req.send().await {
        Err(e) => format!("no answer: {e}"),
        Ok(r) => {
            let status = r.status().as_u16();
            let challenge = r
                .headers()
                .get("WWW-Authenticate")
                .and_then(|h| h.to_str().ok())
                .map(|h| match regsim_wire::challenge::parse_challenge(h) {
                    Ok(c) => format!(
                        " error={} scope={}",
                        c.params.get("error").map_or("-", |s| s.as_str()),
                        c.params.get("scope").map_or("-", |s| s.as_str())
                    ),
                    Err(e) => format!(" unparsable challenge: {}", e.0),
                })
                .unwrap_or_default();
            format!("{status}{challenge}")
        }
    }
}

/// Every token against both registries, on `/v2/` and on the manifest.
pub async fn checks(t: &Target<'_>, mock: SocketAddr, reference: SocketAddr) -> Vec<Check> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for (name, token) in tokens(t) {
        for path in ["/v2/".to_string(), format!("/v2/{}/manifests/{}", t.repository, t.tag)] {
            let m = answer(&http, &format!("http://{mock}{path}"), token.as_deref()).await;
            let r = answer(&http, &format!("http://{reference}{path}"), token.as_deref()).await;
            out.push(Check::compare(
                name,
                FORGED,
                format!("GET {path} → {r}"),
                ("mock registry", m),
                ("distribution 2.8.2", r),
            ));
        }
    }
    out
}
