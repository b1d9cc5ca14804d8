//! `Gitlab::Auth.find_for_git_client`, in its order (gitlab-rails.md §3.1).

use crate::scenario::TokenKind;
use crate::world::{Token, World};

/// Registry abilities of an authentication result (gitlab-rails.md §3.1 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Abilities {
    pub read_container_image: bool,
    pub create_container_image: bool,
    pub admin_container_image: bool,
    /// The job token's `build_*` abilities.
    pub build: bool,
}

impl Abilities {
    pub fn any_registry(&self) -> bool {
        self.read_container_image || self.create_container_image || self.admin_container_image || self.build
    }
    fn full() -> Self {
        Abilities {
            read_container_image: true,
            create_container_image: true,
            admin_container_image: true,
            build: false,
        }
    }
    /// `abilities_for_scopes`: what a token's scopes allow at the registry.
    pub fn for_scopes(scopes: &[String]) -> Self {
        let mut a = Abilities::default();
        for s in scopes {
            match s.as_str() {
                "api" => a = Abilities::full(),
                "read_api" | "read_registry" => a.read_container_image = true,
                "write_registry" => a.create_container_image = true,
                _ => {}
            }
        }
        a
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No Basic credentials: read-only abilities for public content.
    Anonymous,
    /// `gitlab-ci-token` with a running job's token; acts as the user who triggered the job.
    Job {
        project: String,
        user: String,
    },
    /// A user by password, or a personal/project/group access token (bot users for the latter).
    User {
        username: String,
        token: Option<String>,
    },
    DeployToken {
        name: String,
    },
}

#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub abilities: Abilities,
    /// `Gitlab::Auth::Result#type` as the JWT's `auth_type` claim.
    pub auth_type: &'static str,
    /// How the identity was recognised, in GitLab's words.
    pub because: String,
}

impl Authenticated {
    pub fn username(&self) -> Option<&str> {
        match &self.actor {
            Actor::Job { user, .. } => Some(user),
            Actor::User { username, .. } => Some(username),
            _ => None,
        }
    }
}

/// Why `/jwt/auth` answers 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// Nothing matched: wrong password, unknown/expired/revoked token, finished job.
    WrongCredentials { why: String },
    /// A 2FA user tried a password (`MissingPersonalAccessTokenError`).
    PersonalAccessTokenRequired { why: String },
}

/// `find_for_git_client(login, password)`; `None` credentials = no Authorization header.
pub fn authenticate(world: &World, credentials: Option<(&str, &str)>) -> Result<Authenticated, AuthFailure> {
    let Some((login, password)) = credentials else {
        return Ok(Authenticated {
            actor: Actor::Anonymous,
            abilities: Abilities {
                read_container_image: true,
                ..Default::default()
            },
            auth_type: "none",
            because: "no Authorization header: anonymous, read-only abilities".into(),
        });
    };
    let today = world.clock.date();
    // `can_log_in_with_non_expired_password?`: a blocked user cannot, and bots pass instead by
    // `bot_user_can_read_project?`/`project_bot?` (lib/gitlab/auth.rb, current code;
    // gitlab-rails.md §1.3 — the first release of each check UNCONFIRMED).
    let blocked = |name: &str| world.user(name).is_some_and(|u| u.blocked && !u.bot);
    const CAN_LOG_IN: &str = "lib/gitlab/auth.rb: can_log_in_with_non_expired_password? is false for a blocked user \
                              (current code; first release UNCONFIRMED)";

    // 2. build_access_token_check: login must be exactly gitlab-ci-token.
    if login == "gitlab-ci-token" && password == world.job.token {
        if blocked(&world.job.user) {
            return Err(AuthFailure::WrongCredentials {
                why: format!(
                    "the job's token acts as {}, who is blocked: build_access_token_check refuses it ({CAN_LOG_IN})",
                    world.job.user
                ),
            });
        }
        return Ok(Authenticated {
            actor: Actor::Job {
                project: world.job.project.clone(),
                user: world.job.user.clone(),
            },
            abilities: Abilities {
                build: true,
                ..Default::default()
            },
            auth_type: "build",
            because: format!(
                "CI_JOB_TOKEN of job {} in {} (triggered by {})",
                world.job.id, world.job.project, world.job.user
            ),
        });
    }

    // 5. personal_access_token_check: the username is ignored; personal, project and group
    //    access tokens alike. Expired and revoked tokens are not found at all.
    let active = |t: &Token| !t.revoked && t.expires_at.is_none_or(|d| today < d);
    if let Some(t) = world
        .tokens
        .iter()
        .find(|t| t.kind != TokenKind::DeployToken && t.value == password)
        && active(t)
    {
        let username = match &t.bot_user {
            Some(b) => b.clone(),
            None => match &t.owner {
                crate::world::TokenOwner::User(u) => u.clone(),
                _ => unreachable!("personal access tokens belong to users"),
            },
        };
        if blocked(&username) {
            return Err(AuthFailure::WrongCredentials {
                why: format!(
                    "{} `{}` belongs to {username}, who is blocked: personal_access_token_check refuses it ({CAN_LOG_IN})",
                    kind_words(t.kind),
                    t.name
                ),
            });
        }
        return Ok(Authenticated {
            actor: Actor::User {
                username,
                token: Some(t.name.clone()),
            },
            abilities: Abilities::for_scopes(&t.scopes),
            auth_type: "personal_access_token",
            because: format!(
                "{} `{}` with scopes [{}]",
                kind_words(t.kind),
                t.name,
                t.scopes.join(", ")
            ),
        });
    }

    // 6. deploy_token_check: login must equal the token's username.
    if let Some(t) = world
        .tokens
        .iter()
        .find(|t| t.kind == TokenKind::DeployToken && t.value == password)
        && active(t)
        && t.username.as_deref() == Some(login)
    {
        return Ok(Authenticated {
            actor: Actor::DeployToken { name: t.name.clone() },
            abilities: Abilities::for_scopes(&t.scopes),
            auth_type: "deploy_token",
            because: format!("deploy token `{}` with scopes [{}]", t.name, t.scopes.join(", ")),
        });
    }

    // 7. user_with_password_for_git.
    if let Some(u) = world.users.iter().find(|u| u.username == login && !u.bot)
        && u.password.as_deref() == Some(password)
    {
        if u.blocked {
            return Err(AuthFailure::WrongCredentials {
                why: format!(
                    "{login} is blocked: find_with_user_password stops before checking the password ({CAN_LOG_IN})"
                ),
            });
        }
        if u.two_factor {
            return Err(AuthFailure::PersonalAccessTokenRequired {
                why: format!("{login} has two-factor authentication: a password is refused, a token is required"),
            });
        }
        return Ok(Authenticated {
            actor: Actor::User {
                username: u.username.clone(),
                token: None,
            },
            abilities: Abilities::full(),
            auth_type: "gitlab_or_ldap",
            because: format!("password of {login}"),
        });
    }

    // Nothing matched: say which credential almost did, for the output.
    let why = if let Some(t) = world.tokens.iter().find(|t| t.value == password) {
        if t.revoked {
            format!("{} `{}` is revoked", kind_words(t.kind), t.name)
        } else if !active(t) {
            format!(
                "{} `{}` expired on {}",
                kind_words(t.kind),
                t.name,
                t.expires_at.unwrap()
            )
        } else {
            format!(
                "deploy token `{}` needs username `{}`, got `{login}`",
                t.name,
                t.username.clone().unwrap_or_default()
            )
        }
    } else if login == "gitlab-ci-token" {
        "gitlab-ci-token with a password that is no running job's token".to_string()
    } else {
        // The password is what the user typed: shown masked, never whole.
        format!(
            "no user, token or deploy token matches login `{login}` and password {}",
            regsim_wire::secret::masked(password)
        )
    };
    Err(AuthFailure::WrongCredentials { why })
}

fn kind_words(k: TokenKind) -> &'static str {
    match k {
        TokenKind::PersonalAccessToken => "personal access token",
        TokenKind::ProjectAccessToken => "project access token",
        TokenKind::GroupAccessToken => "group access token",
        TokenKind::DeployToken => "deploy token",
    }
}
