//! Token auth around the registry core: the challenge (distribution's accesscontroller) and the
//! verdict (`token::verify`). Kept apart so each can be read and tested alone.

use super::{Reply, error};
use crate::mock::errcode;
use crate::token::{self, Claims, SigningKey, covers, verify};
use crate::world::World;

pub const SERVICE: &str = "container_registry";

/// `Bearer realm="R",service="S"[,scope="…"][,error="…"]` — no spaces, values quoted.
pub fn challenge(world: &World, scope: Option<&str>, err: Option<&str>) -> String {
    let mut c = format!(
        "Bearer realm=\"{}/jwt/auth\",service=\"{SERVICE}\"",
        world.gitlab.external_url()
    );
    if let Some(s) = scope {
        c.push_str(&format!(",scope=\"{s}\""));
    }
    if let Some(e) = err {
        c.push_str(&format!(",error=\"{e}\""));
    }
    c
}

/// Checks the request's bearer token against `required` (`name`, actions); `None` for the base.
pub fn check(
    world: &World,
    authorization: Option<&str>,
    required: Option<(&str, &[&str])>,
) -> Result<Claims, Box<Reply>> {
    let scope = required.map(|(n, a)| format!("repository:{n}:{}", a.join(",")));
    // The detail lists the access the request needed (GitLab's fork adds `ProjectPath`).
    let detail = match required {
        None => serde_json::Value::Null,
        Some((n, actions)) => serde_json::Value::Array(
            actions
                .iter()
                .map(|a| serde_json::json!({"Type": "repository", "Class": "", "Name": n, "ProjectPath": "", "Action": a}))
                .collect(),
        ),
    };
    let refuse = |err: Option<&str>, note: String| {
        let mut r = error(&errcode::UNAUTHORIZED, Some(detail.clone()), note);
        r.response = r
            .response
            .insert_header("WWW-Authenticate", challenge(world, scope.as_deref(), err).as_str());
        Box::new(r)
    };
    let bearer = authorization
        .filter(|h| h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer "))
        .map(|h| h[7..].trim());
    let Some(jwt) = bearer else {
        return Err(refuse(None, "no bearer token: challenge".into()));
    };
    let key = SigningKey::shared();
    let trust = token::trust_for(key, &world.gitlab.issuer, SERVICE);
    let claims = verify(jwt, &trust, world.clock.unix_timestamp())
        .map_err(|e| refuse(Some("invalid_token"), format!("invalid_token: {e}")))?;
    if let Some((name, actions)) = required {
        for a in actions {
            if !covers(&claims, "repository", name, a) {
                return Err(refuse(
                    Some("insufficient_scope"),
                    format!("insufficient_scope: token grants no {a} on {name}"),
                ));
            }
        }
    }
    Ok(claims)
}
