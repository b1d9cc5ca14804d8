//! The Dependency Proxy for container images: who gets a proxy token at `/jwt/auth?service=
//! dependency_proxy`, and who may pull through a group's proxy (gitlab-rails.md §5.2, §5.4;
//! `Auth::DependencyProxyAuthenticationService`, `GroupPolicy#dependency_proxy_access_allowed`).

use super::{Actor, Authenticated, Decision};
use crate::scenario::{Role, TokenKind};
use crate::versions::gitlab as gv;
use crate::world::{TokenOwner, World};

/// Who the proxy token speaks for; its claims carry this (`user_id`, `deploy_token`,
/// `personal_access_token`, `group_access_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySubject {
    /// A user: by password, through a job token (the job's user) or a personal access token.
    User {
        username: String,
        token: Option<String>,
    },
    /// A group access token's bot (16.3 →).
    GroupAccessToken {
        bot: String,
        token: String,
    },
    DeployToken {
        name: String,
    },
}

/// Why `/jwt/auth?service=dependency_proxy` refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyTokenRefusal {
    /// The instance's Dependency Proxy is off: 404 `dependency proxy not enabled`.
    NotEnabled,
    /// The actor is not valid for the proxy: 403 `access forbidden`.
    Forbidden { because: String },
    /// The rule for this actor in this release is not known.
    Unknown { because: String },
}

fn has_both_registry_scopes(scopes: &[String], api_counts: bool) -> bool {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    (has("read_registry") && has("write_registry")) || (api_counts && has("api"))
}

/// The token decision (§5.2).
pub fn proxy_token(world: &World, auth: &Authenticated) -> Result<ProxySubject, ProxyTokenRefusal> {
    let gl = &world.gitlab;
    if !gl.dependency_proxy {
        return Err(ProxyTokenRefusal::NotEnabled);
    }
    let enforce_scopes = gl.version >= gv::DEPENDENCY_PROXY_SCOPE_ENFORCEMENT;
    match &auth.actor {
        Actor::Anonymous => Err(ProxyTokenRefusal::Forbidden {
            because: "no user and no deploy token: anonymous pulls ended in GitLab 13.7".into(),
        }),
        Actor::Job { user, .. } => Ok(ProxySubject::User {
            username: user.clone(),
            token: None,
        }),
        Actor::User { username, token: None } => Ok(ProxySubject::User {
            username: username.clone(),
            token: None,
        }),
        Actor::User {
            username,
            token: Some(name),
        } => {
            let t = world
                .tokens
                .iter()
                .find(|t| &t.name == name)
                .expect("authenticate found this token");
            if enforce_scopes && !has_both_registry_scopes(&t.scopes, true) {
                return Err(ProxyTokenRefusal::Forbidden {
                    because: format!(
                        "`{name}` has scopes [{}]; from GitLab {} the Dependency Proxy needs read_registry and write_registry \
                         (or api) — \"Dependency Proxy token scope enforcement\", gitlab-org/gitlab#426887",
                        t.scopes.join(", "),
                        gv::DEPENDENCY_PROXY_SCOPE_ENFORCEMENT
                    ),
                });
            }
            match t.kind {
                TokenKind::GroupAccessToken if gl.version >= gv::DEPENDENCY_PROXY_GROUP_TOKENS_AND_MULTIARCH => {
                    Ok(ProxySubject::GroupAccessToken {
                        bot: username.clone(),
                        token: name.clone(),
                    })
                }
                TokenKind::GroupAccessToken => Err(ProxyTokenRefusal::Unknown {
                    because: format!(
                        "group access tokens are supported by the Dependency Proxy from GitLab {}; what {} answered \
                         them is not researched",
                        gv::DEPENDENCY_PROXY_GROUP_TOKENS_AND_MULTIARCH,
                        gl.version
                    ),
                }),
                _ => Ok(ProxySubject::User {
                    username: username.clone(),
                    token: Some(name.clone()),
                }),
            }
        }
        Actor::DeployToken { name } => {
            let t = world
                .tokens
                .iter()
                .find(|t| &t.name == name)
                .expect("authenticate found this token");
            if gl.version < gv::DEPENDENCY_PROXY_DEPLOY_TOKENS {
                return Err(ProxyTokenRefusal::Forbidden {
                    because: format!(
                        "deploy tokens work with the Dependency Proxy from GitLab {} (MR !64363)",
                        gv::DEPENDENCY_PROXY_DEPLOY_TOKENS
                    ),
                });
            }
            let group_token = matches!(t.owner, TokenOwner::Group(_));
            if !group_token || !has_both_registry_scopes(&t.scopes, false) {
                return Err(ProxyTokenRefusal::Forbidden {
                    because: format!(
                        "deploy token `{name}` is not valid for the Dependency Proxy: it must be a group deploy token with \
                         read_registry and write_registry ({}, scopes [{}])",
                        if group_token {
                            "a group token"
                        } else {
                            "a project token"
                        },
                        t.scopes.join(", ")
                    ),
                });
            }
            Ok(ProxySubject::DeployToken { name: name.clone() })
        }
    }
}

/// Before the proxy authenticated (≤ 13.6, or 13.7 – 14.x with `dependency_proxy_for_private_groups`
/// off), every request is anonymous: `find_routable!` finds only groups an anonymous visitor can
/// read, which are public ones (`read_group`; 13.6 docs: "Your group must be public"). A refusal
/// is answered by `route_not_found`: a redirect to the sign-in page.
pub fn may_pull_anonymously(world: &World, group_path: &str) -> Decision {
    match world.group(group_path) {
        Some(g) if g.visibility == crate::scenario::Visibility::Public => Decision {
            allowed: true,
            because: format!("{} is public: anonymous visitors may read it", g.path),
        },
        Some(g) => Decision {
            allowed: false,
            because: format!(
                "{} is {:?}: without authentication (no proxy token before GitLab {}) only public groups can be read",
                g.path,
                g.visibility,
                gv::DEPENDENCY_PROXY_AUTHENTICATED
            ),
        },
        None => Decision {
            allowed: false,
            because: format!("no group `{group_path}`"),
        },
    }
}

/// Whether someone with `role` in a group may enable or disable its Dependency Proxy
/// (`admin_dependency_proxy`) in this release.
pub fn may_change_proxy_setting(world: &World, role: Role) -> Decision {
    let needed = crate::versions::lookup(&gv::dependency_proxy_admin_role(), &world.gitlab.version)
        .map(|e| (e.value, e.source))
        .unwrap_or((Role::Developer, "before the table"));
    Decision {
        allowed: role >= needed.0,
        because: format!(
            "GitLab {} lets {:?} and above change the group's Dependency Proxy settings ({})",
            world.gitlab.version, needed.0, needed.1
        ),
    }
}

/// Whether `subject` may read `group`'s proxy (`read_dependency_proxy`). Refusals are answered
/// 404 with an empty body, as a missing group is (§5.3 items 2–3).
pub fn may_pull_through(world: &World, subject: &ProxySubject, group_path: &str) -> Decision {
    let Some(group) = world.group(group_path) else {
        let personal = world.users.iter().any(|u| u.username.eq_ignore_ascii_case(group_path));
        let because = if personal {
            format!(
                "`{group_path}` is a personal namespace: the Dependency Proxy exists for groups only (gitlab#342397)"
            )
        } else {
            format!("no group `{group_path}`")
        };
        return Decision {
            allowed: false,
            because,
        };
    };
    // Membership counts from the group and its ancestors.
    let parts: Vec<&str> = group.path.split('/').collect();
    let lineage: Vec<String> = (1..=parts.len()).map(|n| parts[..n].join("/")).collect();
    let role_of = |user: &str| -> Option<Role> {
        lineage
            .iter()
            .filter_map(|g| world.group(g).and_then(|g| g.members.get(user)).copied())
            .max()
    };
    match subject {
        ProxySubject::User { username, .. } | ProxySubject::GroupAccessToken { bot: username, .. } => {
            if world.user(username).is_some_and(|u| u.admin) {
                return Decision {
                    allowed: true,
                    because: format!("{username} is an administrator"),
                };
            }
            // SAML SSO enforcement for Git and Dependency Proxy activity: without an active SSO
            // session the user's access level counts as NO_ACCESS (ee GroupPolicy
            // lookup_access_level!(for_any_session: true), SessionEnforcer#user_allowed?).
            if let Some(sessions) = world
                .group(&lineage[0])
                .and_then(|g| g.sso_enforced_for_dependency_proxy.as_ref())
            {
                let bot = matches!(subject, ProxySubject::GroupAccessToken { .. });
                let owner_exempt =
                    world.gitlab.version < gv::SSO_ENFORCEMENT_COVERS_OWNERS && role_of(username) == Some(Role::Owner);
                if !bot && !owner_exempt && !sessions.iter().any(|s| s == username) {
                    return Decision {
                        allowed: false,
                        because: format!(
                            "{} enforces SSO-only authentication for Git and Dependency Proxy activity and {username} has \
                             no active SSO session, so their access level counts as none (no exemption for CI job tokens \
                             was found in the code, docs/research/dependency-proxy.md Q2)",
                            lineage[0]
                        ),
                    };
                }
            }
            match role_of(username) {
                Some(r) => Decision {
                    allowed: r >= Role::Guest,
                    because: format!("{username} is {r:?} in {} (at least Guest is needed)", group.path),
                },
                None => Decision {
                    allowed: false,
                    because: format!(
                        "{username} is not a member of {} or its parents (at least Guest on the group is needed; \
                         project membership does not count)",
                        group.path
                    ),
                },
            }
        }
        ProxySubject::DeployToken { name } => {
            let owner = world.tokens.iter().find(|t| &t.name == name).map(|t| &t.owner);
            let ok = matches!(owner, Some(TokenOwner::Group(g)) if lineage.iter().any(|l| l.eq_ignore_ascii_case(g)));
            Decision {
                allowed: ok,
                because: if ok {
                    format!("group deploy token `{name}` of {}", group.path)
                } else {
                    format!("deploy token `{name}` has no access to {}", group.path)
                },
            }
        }
    }
}
