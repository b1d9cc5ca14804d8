//! `JwtController#auth` for `service=container_registry` (gitlab-rails.md §1) and, through
//! `dependency_proxy`, `service=dependency_proxy` (§5.2): parse, ask
//! `policy`, translate the answer into Rails' statuses and bodies.

use super::authenticated;
use crate::journal::{Answer, Rule, Verdict};
use crate::request::Request;
use crate::settings::Settings;
use crate::token::{self, IssueRequest};
use crate::wire::Wire;
use base64::Engine as _;
use regsim_model::policy::{self, AuthFailure};
use regsim_model::versions::gitlab as gv;
use regsim_model::world::World;
use regsim_wire::claims::UserInfo;
use regsim_wire::scope::RequestedScope;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

pub(super) fn auth(world: &World, req: &Request, issued: &AtomicU64, settings: &Settings) -> Answer {
    let query = req.url.query().unwrap_or("");
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let service = params.iter().find(|(k, _)| k == "service").map(|(_, v)| v.as_str());
    if service == Some("dependency_proxy") {
        let credentials = basic_credentials(req);
        let creds = match &credentials {
            Basic::None => None,
            Basic::Pair(l, p) => Some((l.as_str(), p.as_str())),
            Basic::Undecodable => Some(("", "")),
        };
        return match policy::authenticate(world, creds) {
            Ok(a) => super::dependency_proxy::token(world, &a, issued, settings),
            Err(f) => unauthorized(world, &f),
        };
    }
    if service != Some("container_registry") {
        // Unknown or missing service: `head :not_found` (gitlab-rails.md §1.1).
        let note = match service {
            Some(s) => format!("unknown service `{s}`"),
            None => "no service parameter".into(),
        };
        return Answer::new(Wire::new(404), note);
    }
    // Every `scope=` occurrence counts (Rack::Utils.parse_query); newer releases also split each
    // value on whitespace.
    let split = world.gitlab.version >= gv::SCOPE_WHITESPACE_SPLIT;
    let mut scopes = Vec::new();
    for (_, v) in params.iter().filter(|(k, _)| k == "scope") {
        let parts: Vec<&str> = if split {
            v.split_whitespace().collect()
        } else {
            vec![v.as_str()]
        };
        for p in parts {
            match RequestedScope::parse(p) {
                Some(s) => scopes.push(s),
                // `actions.split` on nil raises: a 500 [inferred, gitlab-rails.md §2].
                None => {
                    return Answer::new(
                        Wire::new(500),
                        format!("scope `{p}` has no actions: NoMethodError in Rails [inferred]"),
                    );
                }
            }
        }
    }

    let credentials = basic_credentials(req);
    let creds = match &credentials {
        Basic::None => None,
        Basic::Pair(l, p) => Some((l.as_str(), p.as_str())),
        Basic::Undecodable => Some(("", "")),
    };
    let auth = match policy::authenticate(world, creds) {
        Ok(a) => a,
        Err(f) => return unauthorized(world, &f),
    };
    let grant = match policy::authorize(world, &auth, &scopes) {
        Ok(g) => g,
        Err(d) => {
            let body = serde_json::json!({"errors": [{"code": d.code, "message": d.message}], "http_status": d.status});
            return Answer::json(d.status, &body, format!("{} {}: {}", d.code, d.message, d.because)).with_rules(vec![
                authenticated(&auth),
                Rule::new(Verdict::Refused, "a token", d.because),
            ]);
        }
    };

    let n = issued.fetch_add(1, Ordering::SeqCst);
    let recent = world.gitlab.version >= gv::JWT_USER_AND_META;
    let meta = |project: &str| -> (u64, u64) {
        let p = world.project(project).map(|p| p.id).unwrap_or(0);
        let root = project.split('/').next().unwrap_or("");
        (
            p,
            100 + world
                .groups
                .iter()
                .position(|g| g.path.eq_ignore_ascii_case(root))
                .unwrap_or(0) as u64,
        )
    };
    let user_info = if recent { user_info(world, &auth) } else { None };
    let jwt = token::issue(IssueRequest {
        key: settings.keys.signing,
        jti: uuid_for(world, n * 2),
        service: "container_registry",
        issuer: &world.gitlab.issuer,
        now: settings.clock.token_now(world),
        expire_minutes: world.gitlab.token_expire_minutes,
        sub: auth.username().map(str::to_string),
        access: &grant.access,
        meta: if recent { Some(&meta) } else { None },
        auth_type: auth.auth_type,
        user_info: user_info.map(|u| (u, uuid_for(world, n * 2 + 1))),
    });
    let granted: Vec<String> = grant
        .access
        .iter()
        .map(|a| format!("{}:{}:{}", a.kind, a.name, a.actions.join(",")))
        .collect();
    let mut note = format!("token for {}; access [{}]", auth.because, granted.join(" "));
    for (what, d) in grant.decisions.iter().filter(|(_, d)| !d.allowed) {
        note.push_str(&format!("; dropped {what}: {}", d.because));
    }
    let mut rules = vec![authenticated(&auth)];
    rules.extend(grant.decisions.iter().map(|(what, d)| {
        let verdict = if d.allowed { Verdict::Granted } else { Verdict::Dropped };
        Rule::new(verdict, what.as_str(), d.because.as_str())
    }));
    Answer::json(200, &serde_json::json!({ "token": jwt }), note).with_rules(rules)
}

/// JwtController's 401 for credentials that authenticate nobody (either service).
fn unauthorized(world: &World, f: &AuthFailure) -> Answer {
    let (two_factor, why) = match f {
        AuthFailure::WrongCredentials { why } => (false, why.clone()),
        AuthFailure::PersonalAccessTokenRequired { why } => (true, why.clone()),
    };
    let era = &world.gitlab.release.basic_auth_denied;
    let message = era.value.message(&world.gitlab.external_url(), two_factor);
    let body = serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": message}]});
    Answer::json(401, &body, format!("{why} [{}]", era.source)).with_rules(vec![Rule::new(
        Verdict::NotAuthenticated,
        "",
        why,
    )])
}

enum Basic {
    None,
    Pair(String, String),
    Undecodable,
}

fn basic_credentials(req: &Request) -> Basic {
    let Some(h) = req.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Basic::None;
    };
    if h.len() < 6 || !h[..6].eq_ignore_ascii_case("basic ") {
        return Basic::None;
    }
    match base64::engine::general_purpose::STANDARD.decode(h[6..].trim()) {
        Ok(raw) => {
            let s = String::from_utf8_lossy(&raw).into_owned();
            match s.split_once(':') {
                Some((l, p)) => Basic::Pair(l.to_string(), p.to_string()),
                None => Basic::Pair(s, String::new()),
            }
        }
        Err(_) => Basic::Undecodable,
    }
}

fn user_info(world: &World, auth: &policy::Authenticated) -> Option<UserInfo> {
    match &auth.actor {
        policy::Actor::Job { user, .. } | policy::Actor::User { username: user, .. } => {
            let id = world
                .users
                .iter()
                .position(|u| &u.username == user)
                .map(|i| i as u64 + 1);
            Some(UserInfo {
                token_type: auth.auth_type.into(),
                username: user.clone(),
                user_id: id,
                deploy_token_id: None,
            })
        }
        policy::Actor::DeployToken { name } => {
            let t = world.tokens.iter().find(|t| &t.name == name)?;
            Some(UserInfo {
                token_type: "deploy_token".into(),
                username: t.username.clone().unwrap_or_default(),
                user_id: None,
                deploy_token_id: Some(t.id),
            })
        }
        policy::Actor::Anonymous => None,
    }
}

/// `SecureRandom.uuid`, made deterministic per scenario and token.
fn uuid_for(world: &World, n: u64) -> String {
    let d = Sha256::digest(format!("{}#{n}", world.name).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
