//! The claims of the tokens GitLab issues, as they travel: the registry JWT (gitlab-rails.md
//! §1.6) and the Dependency Proxy's own token (§5.2). Signing and verifying are the servers'.

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

/// The Dependency Proxy token's claims (gitlab-rails.md §5.2): no `iss`, `aud` or `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyClaims {
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    /// The raw deploy token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_token: Option<String>,
    /// The raw personal access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_access_token: Option<String>,
    /// The raw group access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_access_token: Option<String>,
}
