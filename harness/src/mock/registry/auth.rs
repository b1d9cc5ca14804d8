//! Token auth around the registry core: the challenge (distribution's accesscontroller) and the
//! verdict (`token::verify`). Kept apart so each can be read and tested alone.

use super::{Flavor, Reply, error, error_as};
use crate::mock::errcode;
use crate::token::{self, ClaimSet, SigningKey, covers, verify};
use crate::world::World;
use crate::world::{OtherRegistry, RegistryAuth};
use base64::Engine as _;

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

/// The access records a request needs: (repository, actions); empty for the `/v2/` base.
pub type Required<'a> = &'a [(&'a str, &'a [&'a str])];

/// The `detail` of an UNAUTHORIZED body: one access record per action the request needed
/// (GitLab's fork adds `ProjectPath`; upstream distribution does not).
fn access_detail(required: Required<'_>, project_path: bool) -> serde_json::Value {
    if required.is_empty() {
        return serde_json::Value::Null;
    }
    required
        .iter()
        .flat_map(|(n, actions)| actions.iter().map(move |a| (n, a)))
        .map(|(n, a)| {
            let mut r = serde_json::json!({"Type": "repository", "Class": "", "Name": n});
            if project_path {
                r["ProjectPath"] = "".into();
            }
            r["Action"] = (*a).into();
            r
        })
        .collect()
}

/// Checks the request's bearer token against `required`.
pub fn check(world: &World, authorization: Option<&str>, required: Required<'_>) -> Result<ClaimSet, Box<Reply>> {
    // distribution joins the records with spaces (its map order; regsim keeps request order).
    let scope = (!required.is_empty()).then(|| {
        required
            .iter()
            .map(|(n, a)| format!("repository:{n}:{}", a.join(",")))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let detail = access_detail(required, true);
    let refuse = |err: Option<&str>, note: String| {
        let mut r = error(&errcode::UNAUTHORIZED, Some(detail.clone()), note);
        r.response = r
            .response
            .insert_header("WWW-Authenticate", challenge(world, scope.as_deref(), err).as_str());
        Box::new(r)
    };
    // accesscontroller.go `Authorized`: the header split at single spaces must be exactly
    // `bearer` (any case) and one token.
    let bearer = authorization.and_then(|h| match h.split(' ').collect::<Vec<_>>()[..] {
        [scheme, jwt] if scheme.eq_ignore_ascii_case("bearer") => Some(jwt),
        _ => None,
    });
    let Some(jwt) = bearer else {
        return Err(refuse(None, "no bearer token: challenge".into()));
    };
    let key = SigningKey::shared();
    let trust = token::trust_for(key, &world.gitlab.issuer, SERVICE);
    let claims = verify(jwt, &trust, world.token_clock.unix_timestamp())
        .map_err(|e| refuse(Some("invalid_token"), format!("invalid_token: {e}")))?;
    for (name, actions) in required {
        for a in actions.iter() {
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

/// docker/distribution's htpasswd access controller (upstream v2.8): a `Basic realm` challenge and
/// an UNAUTHORIZED body listing the access the request needed.
pub fn check_other(
    registry: &OtherRegistry,
    authorization: Option<&str>,
    required: Required<'_>,
) -> Result<(), Box<Reply>> {
    let RegistryAuth::Basic { realm, users } = &registry.auth else {
        return Ok(());
    };
    let detail = access_detail(required, false);
    let given = authorization
        .filter(|h| h.len() > 6 && h[..6].eq_ignore_ascii_case("basic "))
        .and_then(|h| base64::engine::general_purpose::STANDARD.decode(h[6..].trim()).ok())
        .map(|raw| String::from_utf8_lossy(&raw).into_owned());
    let note = match given.as_deref().and_then(|g| g.split_once(':')) {
        Some((u, p)) if users.get(u).is_some_and(|want| want == p) => return Ok(()),
        Some((u, _)) if users.contains_key(u) => format!("wrong password for {u}"),
        Some((u, _)) => format!("no htpasswd user {u}"),
        None => "no basic credentials: challenge".to_string(),
    };
    let mut r = error_as(Flavor::Upstream, &errcode::UNAUTHORIZED, Some(detail), note);
    r.response = r
        .response
        .insert_header("WWW-Authenticate", format!("Basic realm=\"{realm}\"").as_str());
    Err(Box::new(r))
}
