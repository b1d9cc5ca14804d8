use super::keys::SigningKey;
use crate::policy::Access;
use jsonwebtoken::{Algorithm, Header, encode};
use serde::{Deserialize, Serialize};

/// The registry JWT's claims as GitLab sets them (gitlab-rails.md §1.6): registered claims from
/// `default_payload`, then `access`, `auth_type` and (recent releases) `user`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub jti: String,
    pub aud: Audience,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    /// Optional on the wire so a token without it can be told apart (distribution treats a
    /// missing `exp` as expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default)]
    pub access: Vec<AccessClaim>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    /// A nested signed JWT carrying `user_info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// `aud` is a string in GitLab's tokens. distribution 2.8.2 refuses a list (its `ClaimSet.Audience`
/// is a string; token/verify.rs); v3 accepts one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, s: &str) -> bool {
        match self {
            Audience::One(a) => a == s,
            Audience::Many(v) => v.iter().any(|a| a == s),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaim {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// `user_info` of the nested `user` token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserInfo {
    pub token_type: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_token_id: Option<u64>,
}

/// `project path → (project_id, root_namespace_id)`.
pub type ProjectMeta<'a> = &'a dyn Fn(&str) -> (u64, u64);

/// Everything the token service decided, ready to sign.
pub struct Issue<'a> {
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
    let key = SigningKey::shared();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    let access = i
        .access
        .iter()
        .map(|a| AccessClaim {
            kind: a.kind.clone(),
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
