//! Signing the registry JWT as GitLab sets it (gitlab-rails.md §1.6): registered claims from
//! `default_payload`, then `access` (with `meta` on recent releases), `auth_type` and `user`.

use super::keys::SigningKey;
use jsonwebtoken::{Algorithm, Header, encode};
use regsim_model::policy::Access;
use regsim_wire::claims::{AccessClaim, Audience, Claims, UserInfo};

/// `project path → (project_id, root_namespace_id)`.
pub type ProjectMeta<'a> = &'a dyn Fn(&str) -> (u64, u64);

/// Everything the token service decided, ready to sign.
pub struct Issue<'a> {
    pub key: &'a SigningKey,
    pub jti: String,
    pub service: &'a str,
    pub issuer: &'a str,
    pub now: i64,
    pub expire_minutes: u64,
    pub sub: Option<String>,
    pub access: &'a [Access],
    /// `project path → (project_id, root_namespace_id)` for `meta`, when the release adds it.
    pub meta: Option<ProjectMeta<'a>>,
    pub auth_type: &'a str,
    pub user_info: Option<(UserInfo, String)>,
}

pub fn issue(i: Issue<'_>) -> String {
    let key = i.key;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    let access = i
        .access
        .iter()
        .map(|a| AccessClaim {
            kind: a.kind.to_string(),
            name: a.name.clone(),
            actions: a.actions.clone(),
            meta: match (&i.meta, &a.project) {
                (Some(f), Some(p)) => {
                    let (project_id, root) = f(p);
                    Some(serde_json::json!({"project_path": p.to_lowercase(), "project_id": project_id, "root_namespace_id": root}))
                }
                _ => None,
            },
        })
        .collect();
    // The nested user token uses the 60 s default expiry (gitlab-rails.md §1.6).
    let user = i.user_info.map(|(info, jti)| {
        let nested = serde_json::json!({
            "jti": jti, "aud": i.service, "iss": i.issuer, "iat": i.now, "nbf": i.now - 5, "exp": i.now + 60,
            "user_info": info,
        });
        encode(&header, &nested, &key.encoding).expect("RS256 signing with the committed key")
    });
    let claims = Claims {
        jti: i.jti,
        aud: Audience::One(i.service.to_string()),
        sub: i.sub,
        iss: i.issuer.to_string(),
        iat: i.now,
        nbf: i.now - 5,
        exp: Some(i.now + (i.expire_minutes as i64) * 60),
        access,
        auth_type: Some(i.auth_type.to_string()),
        user,
    };
    encode(&header, &claims, &key.encoding).expect("RS256 signing with the committed key")
}

pub use Issue as IssueRequest;
