//! `/jwt/auth?service=dependency_proxy`, after authentication: the proxy token GitLab issues
//! (gitlab-rails.md §5.2) or its refusal, and the subject a presented token speaks for.

use crate::gitlab::authenticated;
use crate::journal::{Answer, Rule, Verdict};
use crate::settings::Settings;
use crate::token::issue_proxy_token;
use regsim_model::policy::Authenticated;
use regsim_model::policy::dependency_proxy::{ProxySubject, ProxyTokenRefusal, proxy_token};
use regsim_model::world::World;
use regsim_wire::claims::ProxyClaims;
use std::sync::atomic::{AtomicU64, Ordering};

/// `/jwt/auth?service=dependency_proxy`, after authentication: the proxy token or its refusal
/// (`BaseServiceUtility#error` bodies).
pub(crate) fn token(world: &World, auth: &Authenticated, issued: &AtomicU64, settings: &Settings) -> Answer {
    let subject = match proxy_token(world, auth) {
        Ok(s) => s,
        Err(ProxyTokenRefusal::NotEnabled) => {
            let body =
                serde_json::json!({"message": "dependency proxy not enabled", "status": "error", "http_status": 404});
            let why = "the instance's Dependency Proxy is off (gitlab.yml dependency_proxy.enabled)";
            return Answer::json(404, &body, why).with_rules(vec![
                authenticated(auth),
                Rule::new(Verdict::Refused, "a proxy token", why),
            ]);
        }
        Err(ProxyTokenRefusal::Forbidden { because }) => {
            let body = serde_json::json!({"message": "access forbidden", "status": "error", "http_status": 403});
            let rules = vec![
                authenticated(auth),
                Rule::new(Verdict::Refused, "a proxy token", because.as_str()),
            ];
            return Answer::json(403, &body, because).with_rules(rules);
        }
        Err(ProxyTokenRefusal::Unknown { because }) => {
            return Answer::not_modelled(because);
        }
    };
    let now = settings.clock.gitlab_now(world);
    let n = issued.fetch_add(1, Ordering::SeqCst);
    let raw = |name: &str| world.tokens.iter().find(|t| t.name == name).map(|t| t.value.clone());
    let user_id = |u: &str| world.users.iter().position(|x| x.username == u).map(|i| i as u64 + 1);
    let mut claims = ProxyClaims {
        jti: format!("{}-dp-{n}", world.job.id),
        iat: now,
        nbf: now - 5,
        exp: now + world.gitlab.token_expire_minutes as i64 * 60,
        user_id: None,
        deploy_token: None,
        personal_access_token: None,
        group_access_token: None,
    };
    let who = match &subject {
        ProxySubject::User { username, token } => {
            claims.user_id = user_id(username);
            if let Some(t) = token {
                claims.personal_access_token = raw(t);
            }
            format!("user {username}")
        }
        ProxySubject::GroupAccessToken { bot, token } => {
            claims.user_id = user_id(bot);
            claims.group_access_token = raw(token);
            format!("group access token `{token}`")
        }
        ProxySubject::DeployToken { name } => {
            claims.deploy_token = raw(name);
            format!("deploy token `{name}`")
        }
    };
    let rules = vec![
        authenticated(auth),
        Rule::new(Verdict::Granted, "a proxy token", format!("it speaks for {who}")),
    ];
    Answer::json(
        200,
        &serde_json::json!({"token": issue_proxy_token(&claims, settings.keys.proxy_secret)}),
        format!("proxy token for {who} ({})", auth.because),
    )
    .with_rules(rules)
}

/// The subject a valid proxy token speaks for.
pub(super) fn subject_of(world: &World, claims: &ProxyClaims) -> Option<ProxySubject> {
    if let Some(raw) = &claims.deploy_token {
        return world
            .tokens
            .iter()
            .find(|t| &t.value == raw)
            .map(|t| ProxySubject::DeployToken { name: t.name.clone() });
    }
    let id = claims.user_id? as usize;
    let user = world.users.get(id.checked_sub(1)?)?;
    if let Some(raw) = &claims.group_access_token {
        let t = world.tokens.iter().find(|t| &t.value == raw)?;
        return Some(ProxySubject::GroupAccessToken {
            bot: user.username.clone(),
            token: t.name.clone(),
        });
    }
    Some(ProxySubject::User {
        username: user.username.clone(),
        token: None,
    })
}
