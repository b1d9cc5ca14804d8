//! The mock servers over real HTTP: what GitLab's `/jwt/auth` and the registry answer to odd,
//! malformed and forged requests (gitlab-rails.md §1; distribution v2.8 `registry/auth/token`,
//! as GitLab's fork answers).

use base64::Engine as _;
use regsim::run::{Overrides, load};
use regsim_servers::token::SigningKey;
use regsim_servers::{Placement, Stage};
use regsim_wire::claims::Claims;
use std::path::PathBuf;

fn scenario(name: &str) -> regsim_model::world::World {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name);
    load(&p, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

async fn jwt(stage: &Stage, query: &str, auth: Option<String>) -> (u16, String, String) {
    let mut req = client().get(format!("{}/jwt/auth{query}", stage.gitlab.uri()));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

fn claims(token: &str) -> Claims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

const SCOPE: &str =
    "?account=gitlab-ci-token&scope=repository%3Ayour%2Fproject%2Fimage%3Apull&service=container_registry";

#[tokio::test]
async fn token_service_answers_like_rails() {
    let w = scenario("seed-000-allowlist-blocks-cross-project-pull.yaml");
    let stage = Stage::start(&w, Placement::Named).await.unwrap();
    let job = basic("gitlab-ci-token", &w.job.token);

    // No or unknown service: `head :not_found`, empty body.
    let (s, _, b) = jwt(&stage, "", None).await;
    assert_eq!((s, b.as_str()), (404, ""));
    let (s, _, _) = jwt(&stage, "?service=nope", None).await;
    assert_eq!(s, 404);
    // POST is not routed.
    let r = client()
        .post(format!("{}/jwt/auth?service=container_registry", stage.gitlab.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // Wrong credentials: 401 with GitLab 16.2's wording, JSON.
    let (s, ct, b) = jwt(&stage, SCOPE, Some(basic("gitlab-ci-token", "wrong"))).await;
    assert_eq!(s, 401);
    assert!(ct.starts_with("application/json"), "{ct}");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["errors"][0]["code"], "UNAUTHORIZED");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("HTTP Basic: Access denied. The provided password or token")
    );

    // Anonymous with nothing grantable: 403 with http_status in the body.
    let (s, _, b) = jwt(&stage, SCOPE, None).await;
    assert_eq!(s, 403);
    assert_eq!(
        b,
        r#"{"errors":[{"code":"DENIED","message":"access forbidden"}],"http_status":403}"#
    );

    // A scope without actions breaks Rails' split: 500 [inferred, gitlab-rails.md §2].
    let (s, _, _) = jwt(
        &stage,
        "?scope=repository%3Ayour%2Fproject%2Fimage&service=container_registry",
        Some(job.clone()),
    )
    .await;
    assert_eq!(s, 500);

    // The job token authenticates; the allowlist drops the pull: 200 with empty access.
    let (s, _, b) = jwt(&stage, SCOPE, Some(job.clone())).await;
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["token"],
        "only `token`, no expires_in"
    );
    let tok = v["token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(tok).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(SigningKey::shared().kid.as_str()));
    let c = claims(tok);
    assert!(c.access.is_empty());
    assert_eq!(c.sub.as_deref(), Some("alice"));
    assert_eq!(c.iss, "omnibus-gitlab-issuer");
    assert!(c.aud.contains("container_registry"));
    assert_eq!(c.nbf, c.iat - 5);
    assert_eq!(c.exp, Some(c.iat + 5 * 60));
    assert_eq!(c.auth_type.as_deref(), Some("build"));

    // Repeated scope parameters are all read: the job's own project is granted.
    let two = "?scope=repository%3Ayour%2Fproject%2Fimage%3Apull&scope=repository%3Ayour%2Fapp%2Fimg%3Apush%2Cpull&service=container_registry";
    let (_, _, b) = jwt(&stage, two, Some(job)).await;
    let c = claims(
        serde_json::from_str::<serde_json::Value>(&b).unwrap()["token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(c.access.len(), 1);
    assert_eq!(
        (c.access[0].name.as_str(), c.access[0].actions.clone()),
        ("your/app/img", vec!["push".to_string(), "pull".to_string()])
    );
}

async fn registry_get(stage: &Stage, method: &str, path: &str, bearer: Option<&str>) -> reqwest::Response {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client().request(m, format!("{}{path}", stage.registry.uri()));
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.send().await.unwrap()
}

fn challenge(r: &reqwest::Response) -> String {
    r.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Signs claims with the mock's own key (for tokens GitLab would never issue).
fn signed(c: &Claims) -> String {
    let key = SigningKey::shared();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&h, c, &key.encoding).unwrap()
}

#[tokio::test]
async fn registry_challenges_and_verifies_like_distribution() {
    let w = scenario("own-project-pulls.yaml");
    let stage = Stage::start(&w, Placement::Named).await.unwrap();
    let realm = "Bearer realm=\"https://gitlab.example.net/jwt/auth\",service=\"container_registry\"";

    // Base without a token: challenge without scope, detail null, API version header.
    let r = registry_get(&stage, "GET", "/v2/", None).await;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(challenge(&r), realm);
    assert_eq!(r.headers()["docker-distribution-api-version"], "registry/2.0");
    assert_eq!(
        r.text().await.unwrap(),
        "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\",\"detail\":null}]}\n"
    );

    // Unknown routes: Go's 404 page.
    let r = registry_get(&stage, "GET", "/v3/", None).await;
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (404, "404 page not found\n".to_string())
    );

    // A token GitLab issues for the job's own project.
    let (_, _, b) = jwt(&stage, SCOPE, Some(basic("gitlab-ci-token", &w.job.token))).await;
    let good = serde_json::from_str::<serde_json::Value>(&b).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest = "/v2/your/project/image/manifests/latest";
    let r = registry_get(&stage, "GET", manifest, Some(&good)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .starts_with("sha256:")
    );

    let base = claims(&good);
    let scoped = |e: &str| format!("{realm},scope=\"repository:your/project/image:pull\",error=\"{e}\"");
    let mut cases: Vec<(&str, String, String)> = Vec::new();
    // Forged and broken tokens → invalid_token; valid but for another repository → insufficient_scope.
    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        good.split('.').nth(1).unwrap()
    );
    cases.push(("alg none", none, scoped("invalid_token")));
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &base,
        &jsonwebtoken::EncodingKey::from_secret(SigningKey::shared().certificate_pem.as_bytes()),
    )
    .unwrap();
    cases.push(("HS256 with the public certificate", hs, scoped("invalid_token")));
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut tampered = base.clone();
    tampered.access[0].name = "your/other/image".into();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
    cases.push(("tampered access", parts.join("."), scoped("invalid_token")));
    let mut expired = base.clone();
    expired.exp = Some(base.iat - 3600);
    cases.push(("expired", signed(&expired), scoped("invalid_token")));
    let mut future = base.clone();
    future.nbf = base.iat + 3600;
    cases.push(("not yet valid", signed(&future), scoped("invalid_token")));
    let mut aud = base.clone();
    aud.aud = regsim_wire::claims::Audience::One("dependency_proxy".into());
    cases.push(("wrong aud", signed(&aud), scoped("invalid_token")));
    let mut iss = base.clone();
    iss.iss = "someone-else".into();
    cases.push(("wrong iss", signed(&iss), scoped("invalid_token")));
    let mut other = base.clone();
    other.access[0].name = "your/project/other".into();
    cases.push(("another repository", signed(&other), scoped("insufficient_scope")));
    let mut kid = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    kid.kid = Some("AAAA:BBBB".into());
    cases.push((
        "unknown kid",
        jsonwebtoken::encode(&kid, &base, &SigningKey::shared().encoding).unwrap(),
        scoped("invalid_token"),
    ));

    for (what, tok, want) in cases {
        let r = registry_get(&stage, "GET", manifest, Some(&tok)).await;
        assert_eq!(r.status().as_u16(), 401, "{what}");
        assert_eq!(challenge(&r), want, "{what}");
    }

    // HEAD of an error: no body, but the Content-Length of the GET's body (Docker needs it).
    let get = registry_get(&stage, "GET", manifest, None).await;
    let get_len = get.text().await.unwrap().len();
    let head = registry_get(&stage, "HEAD", manifest, None).await;
    assert_eq!(head.status().as_u16(), 401);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), get_len.to_string());
    assert!(head.text().await.unwrap().is_empty());

    // A tag that does not exist: MANIFEST_UNKNOWN with the tag as detail.
    let r = registry_get(&stage, "GET", "/v2/your/project/image/manifests/nope", Some(&good)).await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        r.text().await.unwrap(),
        "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"nope\"}}]}\n"
    );
}
