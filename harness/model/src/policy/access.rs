//! `Auth::ContainerRegistryAuthenticationService`: which requested actions survive into the
//! token, and the rare cases where the service refuses outright (gitlab-rails.md §1.4, §3.2–3.4,
//! §4.4–4.5).

use super::identity::{Actor, Authenticated};
use super::path::{project_for_repository, valid_repository_path};
use crate::scenario::{RegistryAccess, Role, TokenKind, Visibility};
use crate::versions::gitlab as gv;
use crate::world::{Project, TokenOwner, World};
use regsim_wire::scope::{Action, RequestedScope, ResourceType};

/// An entry of the JWT's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: ResourceType,
    pub name: String,
    pub actions: Vec<String>,
    /// The project that holds the repository (GitLab adds `meta` from it; regsim adds it from
    /// the release in `versions::gitlab::JWT_USER_AND_META`).
    #[serde(skip)]
    pub project: Option<String>,
}

/// A yes or no with the rule that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub because: String,
}

fn allow(because: impl Into<String>) -> Decision {
    Decision {
        allowed: true,
        because: because.into(),
    }
}
fn deny(because: impl Into<String>) -> Decision {
    Decision {
        allowed: false,
        because: because.into(),
    }
}

/// What the service grants, and each decision it took on the way.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    pub access: Vec<Access>,
    pub decisions: Vec<(String, Decision)>,
}

/// The service refuses to issue any token (403 rows of gitlab-rails.md §1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub because: String,
}

pub fn authorize(world: &World, auth: &Authenticated, scopes: &[RequestedScope]) -> Result<Grant, Denial> {
    if !world.gitlab.registry_enabled {
        return Err(Denial {
            status: 404,
            code: "UNAVAILABLE",
            message: "registry not enabled".into(),
            because: "the instance has no container registry".into(),
        });
    }
    if !auth.abilities.any_registry() {
        return Err(Denial {
            status: 403,
            code: "DENIED",
            message: "access forbidden".into(),
            because: format!("{}: none of its abilities is a registry ability", auth.because),
        });
    }
    let mut grant = Grant::default();
    for scope in scopes {
        let label = format!("{}:{}:{}", scope.kind, scope.name, scope.actions.join(","));
        match &scope.kind {
            ResourceType::Registry => {
                let admin = auth.username().and_then(|u| world.user(u)).is_some_and(|u| u.admin);
                if scope.name == "catalog" && scope.actions == ["*"] && admin {
                    grant.access.push(Access {
                        kind: ResourceType::Registry,
                        name: "catalog".into(),
                        actions: vec!["*".into()],
                        project: None,
                    });
                    grant
                        .decisions
                        .push((label, allow("an administrator may list the catalog")));
                } else {
                    grant
                        .decisions
                        .push((label, deny("only an administrator gets registry:catalog:*")));
                }
            }
            ResourceType::Repository => {
                if !valid_repository_path(&scope.name) {
                    grant.decisions.push((
                        label,
                        deny(format!(
                            "`{}` is not a valid repository path: scope dropped",
                            scope.name
                        )),
                    ));
                    continue;
                }
                let Some(project) = project_for_repository(world, &scope.name) else {
                    grant
                        .decisions
                        .push((label, deny(format!("no project holds `{}`: scope dropped", scope.name))));
                    continue;
                };
                let mut actions = Vec::new();
                for a in &scope.actions {
                    let d = match Action::parse(a) {
                        Some(action) => can_access(world, auth, project, action),
                        None => deny(format!("`{a}` is not an action GitLab knows")),
                    };
                    if d.allowed {
                        actions.push(a.clone());
                    }
                    grant.decisions.push((format!("{a} {}", scope.name.to_lowercase()), d));
                }
                if !actions.is_empty() {
                    grant.access.push(Access {
                        kind: ResourceType::Repository,
                        name: scope.name.to_lowercase(),
                        actions,
                        project: Some(project.path.clone()),
                    });
                }
            }
            ResourceType::Other(other) => grant
                .decisions
                .push((label, deny(format!("scope type `{other}` is ignored")))),
        }
    }
    if grant.access.is_empty() && auth.actor == Actor::Anonymous {
        return Err(Denial {
            status: 403,
            code: "DENIED",
            message: "access forbidden".into(),
            because: "anonymous request and nothing it asked for can be granted anonymously".into(),
        });
    }
    Ok(grant)
}

/// `can_access?(requested_project, action)` for one identity.
pub fn can_access(world: &World, auth: &Authenticated, project: &Project, action: Action) -> Decision {
    if project.registry_access.value == RegistryAccess::Disabled {
        return deny(format!("{} has its container registry disabled", project.path));
    }
    let ab = auth.abilities;
    match &auth.actor {
        Actor::Job { project: own, user } => {
            let own_project = own.eq_ignore_ascii_case(&project.path);
            match action {
                Action::Pull if own_project => allow(format!("a job token may always pull from its own project {own}")),
                Action::Pull => job_token_pull(world, own, user, project),
                Action::Push | Action::Delete if own_project => {
                    allow(format!("a job token may write to its own project {own}"))
                }
                Action::Push | Action::Delete => deny(format!(
                    "a job token pushes only to its own project ({own}), never to {}",
                    project.path
                )),
                Action::All => deny("a job token never gets `*`"),
            }
        }
        Actor::User { username, .. } => match action {
            Action::Pull if !ab.read_container_image => deny("the token's scopes give no read_container_image"),
            Action::Pull => user_can_read(world, username, project),
            Action::Push if !ab.create_container_image => {
                deny("the token's scopes give no create_container_image (write_registry)")
            }
            Action::Push => at_least(world, username, project, Role::Developer, "push"),
            Action::Delete | Action::All if !ab.admin_container_image => {
                deny("the token's scopes give no admin_container_image")
            }
            Action::Delete | Action::All => at_least(world, username, project, Role::Maintainer, "delete"),
        },
        Actor::DeployToken { name } => {
            let Some(t) = world
                .tokens
                .iter()
                .find(|t| t.kind == TokenKind::DeployToken && &t.name == name)
            else {
                return deny("unknown deploy token");
            };
            let holds = match &t.owner {
                TokenOwner::Project(p) => p.eq_ignore_ascii_case(&project.path),
                TokenOwner::Group(g) => project.ancestor_groups().iter().any(|a| a.eq_ignore_ascii_case(g)),
                TokenOwner::User(_) => false,
            };
            let scope = match action {
                Action::Pull => "read_registry",
                Action::Push => "write_registry",
                _ => return deny("deploy tokens cannot delete"),
            };
            if !holds {
                deny(format!("deploy token `{name}` has no access to {}", project.path))
            } else if t.scopes.iter().any(|s| s == scope) {
                allow(format!("deploy token `{name}` of {} has {scope}", project.path))
            } else {
                deny(format!("deploy token `{name}` lacks {scope}"))
            }
        }
        Actor::Anonymous => match action {
            Action::Pull
                if project.visibility == Visibility::Public
                    && project.registry_access.value == RegistryAccess::Enabled =>
            {
                allow(format!(
                    "{} is public and its registry is visible to everyone",
                    project.path
                ))
            }
            _ => deny(format!(
                "anonymous callers may only pull public registries; {} is not one",
                project.path
            )),
        },
    }
}

/// Whether `username` may `read_container_image` on `project` (gitlab-rails.md §3.3–3.4).
fn user_can_read(world: &World, username: &str, project: &Project) -> Decision {
    let role = world.role(username, project);
    if role.is_some_and(|r| r >= Role::Reporter) {
        return allow(format!(
            "{username} is {:?} of {} (Reporter or above may pull)",
            role.unwrap(),
            project.path
        ));
    }
    if project.registry_access.value == RegistryAccess::Enabled {
        let bot = world.user(username).is_some_and(|u| u.bot);
        match project.visibility {
            Visibility::Public => {
                return allow(format!(
                    "{} is public and its registry is visible to everyone with access",
                    project.path
                ));
            }
            // Access-token bots are scoped to their own project or group (gitlab-rails.md §3.3).
            Visibility::Internal if !bot => {
                return allow(format!("{} is internal and {username} is signed in", project.path));
            }
            _ => {}
        }
    }
    match role {
        Some(r) => deny(format!(
            "{username} is only {r:?} of {} (pulling needs Reporter or above)",
            project.path
        )),
        None => deny(format!("{username} is not a member of {}", project.path)),
    }
}

fn at_least(world: &World, username: &str, project: &Project, min: Role, what: &str) -> Decision {
    match world.role(username, project) {
        Some(r) if r >= min => allow(format!(
            "{username} is {r:?} of {} ({what} needs {min:?})",
            project.path
        )),
        Some(r) => deny(format!(
            "{username} is only {r:?} of {} ({what} needs {min:?})",
            project.path
        )),
        None => deny(format!("{username} is not a member of {}", project.path)),
    }
}

/// A job token pulling another project's image: the inbound allowlist, then the role of the
/// user who triggered the job (gitlab-rails.md §4.4–4.5).
fn job_token_pull(world: &World, job_project: &str, user: &str, target: &Project) -> Decision {
    let allowlist = world.inbound_allowlist_effective(target);
    let job_proj = world.project(job_project);
    let listed_project = target
        .allowlist_projects
        .iter()
        .any(|p| p.eq_ignore_ascii_case(job_project));
    let listed_group = job_proj
        .map(|jp| jp.ancestor_groups())
        .unwrap_or_default()
        .into_iter()
        .find(|g| target.allowlist_groups.iter().any(|a| a.eq_ignore_ascii_case(g)));
    let why_on = allowlist
        .rule
        .clone()
        .unwrap_or_else(|| "set in the project's settings".into());
    let accessible = !allowlist.value || listed_project || listed_group.is_some();
    let scope_words = if !allowlist.value {
        format!("{} has the inbound allowlist off ({why_on})", target.path)
    } else if listed_project {
        format!("{job_project} is on {}'s inbound allowlist", target.path)
    } else if let Some(g) = &listed_group {
        format!(
            "group {g} (holding {job_project}) is on {}'s inbound allowlist",
            target.path
        )
    } else {
        format!(
            "{} has the inbound allowlist on ({why_on}) and {job_project} is not on it",
            target.path
        )
    };
    match target.visibility {
        Visibility::Private if !accessible => deny(format!("job token of {job_project}: {scope_words}")),
        Visibility::Private => {
            let d = user_can_read(world, user, target);
            Decision {
                allowed: d.allowed,
                because: format!("job token of {job_project}: {scope_words}; {}", d.because),
            }
        }
        Visibility::Public | Visibility::Internal
            if !accessible && world.gitlab.version >= gv::ALLOWLIST_LIMITS_PUBLIC_INTERNAL =>
        {
            if target.registry_access.value == RegistryAccess::Enabled {
                allow(format!(
                    "job token of {job_project}: {scope_words}, but {} is {:?} with its registry visible to everyone with access ({})",
                    target.path,
                    target.visibility,
                    gv::ALLOWLIST_LIMITS_PUBLIC_INTERNAL_SOURCE
                ))
            } else {
                deny(format!(
                    "job token of {job_project}: {scope_words}, and {}'s registry is for project members only ({})",
                    target.path,
                    gv::ALLOWLIST_LIMITS_PUBLIC_INTERNAL_SOURCE
                ))
            }
        }
        Visibility::Public | Visibility::Internal => {
            let d = user_can_read(world, user, target);
            let pre = if accessible {
                scope_words
            } else {
                format!(
                    "before GitLab {} the allowlist does not limit public and internal projects",
                    gv::ALLOWLIST_LIMITS_PUBLIC_INTERNAL
                )
            };
            Decision {
                allowed: d.allowed,
                because: format!("job token of {job_project}: {pre}; {}", d.because),
            }
        }
    }
}
