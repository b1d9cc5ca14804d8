//! `tokens:`: personal, project and group access tokens and deploy tokens. Project and group
//! access tokens act as bot users, members of their project or group with the token's role
//! (gitlab-rails.md §3.3).

use super::Ctx;
use super::namespaces::add_user;
use crate::scenario::{self, Scenario, ScenarioError, TokenKind};
use crate::world::{Group, Project, Token, TokenOwner, User};
use sha2::{Digest, Sha256};
use time::Date;

/// The scopes GitLab knows for personal, project and group access tokens.
const KNOWN_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "sudo",
    "admin_mode",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "read_service_ping",
    "read_package_registry",
    "write_package_registry",
    "self_rotate",
];

pub(super) fn short_hash(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d[..4].iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn build(
    ctx: &Ctx<'_>,
    s: &Scenario,
    users: &mut Vec<User>,
    projects: &mut [Project],
    groups: &mut [Group],
) -> Result<Vec<Token>, ScenarioError> {
    let mut tokens = Vec::new();
    for (i, t) in s.tokens.iter().enumerate() {
        let f = |name: &str| format!("tokens[{i}].{name}");
        for (j, sc) in t.scopes.iter().enumerate() {
            if !KNOWN_SCOPES.contains(&sc.as_str()) {
                return Err(ctx.err(&f(&format!("scopes[{j}]")), format!("unknown token scope `{sc}`")));
            }
        }
        let expires_at = match &t.expires_at {
            Some(d) => Some(
                Date::parse(d, &time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|e| ctx.err(&f("expires_at"), format!("`{d}` is not a date (YYYY-MM-DD): {e}")))?,
            ),
            None => None,
        };
        let (owner, bot_user) = owner(ctx, i, t, users, projects, groups)?;
        if matches!(t.kind, TokenKind::ProjectAccessToken | TokenKind::GroupAccessToken) && t.role.is_none() {
            return Err(ctx.err(&f("kind"), format!("a {:?} needs `role`", t.kind)));
        }
        if let (Some(bot), Some(role)) = (&bot_user, t.role) {
            users.push(User {
                username: bot.clone(),
                password: None,
                two_factor: false,
                admin: false,
                bot: true,
                blocked: false,
            });
            // The bot is a member of the token's project or group with the token's role.
            match &owner {
                TokenOwner::Project(p) => {
                    if let Some(proj) = projects.iter_mut().find(|q| q.path.eq_ignore_ascii_case(p)) {
                        proj.members.insert(bot.clone(), role);
                    }
                }
                TokenOwner::Group(g) => {
                    if let Some(grp) = groups.iter_mut().find(|q| q.path.eq_ignore_ascii_case(g)) {
                        grp.members.insert(bot.clone(), role);
                    }
                }
                TokenOwner::User(_) => {}
            }
        }
        let id = i as u64 + 1;
        tokens.push(Token {
            id,
            kind: t.kind,
            name: t.name.clone(),
            value: t.value.clone(),
            owner,
            bot_user,
            role: t.role,
            scopes: t.scopes.clone(),
            expires_at,
            revoked: t.revoked,
            username: (t.kind == TokenKind::DeployToken).then(|| {
                t.username
                    .clone()
                    .unwrap_or_else(|| format!("gitlab+deploy-token-{id}"))
            }),
        });
    }
    Ok(tokens)
}

/// Whose token it is, and the bot user that acts for a project or group access token.
fn owner(
    ctx: &Ctx<'_>,
    i: usize,
    t: &scenario::Token,
    users: &mut Vec<User>,
    projects: &[Project],
    groups: &[Group],
) -> Result<(TokenOwner, Option<String>), ScenarioError> {
    let f = |name: &str| format!("tokens[{i}].{name}");
    let need = |field: &str, v: &Option<String>| {
        v.clone()
            .ok_or_else(|| ctx.err(&f("kind"), format!("a {:?} needs `{field}`", t.kind)))
    };
    let project = |p: &str| {
        projects
            .iter()
            .find(|q| q.path.eq_ignore_ascii_case(p))
            .ok_or_else(|| ctx.err(&f("project"), format!("no project `{p}`")))
    };
    Ok(match t.kind {
        TokenKind::PersonalAccessToken => {
            let u = need("user", &t.user)?;
            add_user(&u, users);
            (TokenOwner::User(u), None)
        }
        TokenKind::ProjectAccessToken => {
            let proj = project(&need("project", &t.project)?)?;
            // Bot usernames are `project_<id>_bot_<hex>` on recent GitLab; the suffix is random
            // there, so regsim derives it from the token name.
            let bot = format!("project_{}_bot_{}", proj.id, short_hash(&t.name));
            (TokenOwner::Project(proj.path.clone()), Some(bot))
        }
        TokenKind::GroupAccessToken => {
            let g = need("group", &t.group)?;
            if !groups.iter().any(|q| q.path.eq_ignore_ascii_case(&g)) {
                return Err(ctx.err(&f("group"), format!("no group `{g}`")));
            }
            let bot = format!("group_{}_bot_{}", i + 1, short_hash(&t.name));
            (TokenOwner::Group(g), Some(bot))
        }
        TokenKind::DeployToken => match (&t.project, &t.group) {
            (Some(p), None) => {
                project(p)?;
                (TokenOwner::Project(p.clone()), None)
            }
            (None, Some(g)) => (TokenOwner::Group(g.clone()), None),
            _ => {
                return Err(ctx.err(&f("kind"), "a deploy token needs exactly one of `project` or `group`"));
            }
        },
    })
}
