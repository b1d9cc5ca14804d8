//! `users:`, `groups:` and `projects:`: who exists, the groups with their proxy and SSO settings,
//! the projects with their allowlist, registry visibility and images.

use super::Ctx;
use crate::scenario::{self, RegistryAccess, Scenario, ScenarioError};
use crate::versions::gitlab as gv;
use crate::world::{Derived, Group, Project, StoredImage, User};
use semver::Version;

/// A user with nothing set but the name (members, the job's user, token owners).
fn plain_user(name: &str) -> User {
    User {
        username: name.to_string(),
        password: None,
        two_factor: false,
        admin: false,
        bot: false,
        blocked: false,
    }
}

/// Adds `name` unless the user exists already. The order users are added in is their ID order.
pub(super) fn add_user(name: &str, users: &mut Vec<User>) {
    if !users.iter().any(|u| u.username == name) {
        users.push(plain_user(name));
    }
}

/// Everyone named anywhere exists; `users:` adds passwords, 2FA and admin. Token owners and bots
/// follow with the tokens.
pub(super) fn users(ctx: &Ctx<'_>, s: &Scenario) -> Result<Vec<User>, ScenarioError> {
    let mut users: Vec<User> = Vec::new();
    for (i, u) in s.users.iter().enumerate() {
        let blocked = match u.state.as_deref() {
            None | Some("active") => false,
            Some("blocked") => true,
            Some(other) => {
                return Err(ctx.err(
                    &format!("users[{i}].state"),
                    format!("`{other}`: expected active or blocked"),
                ));
            }
        };
        users.push(User {
            username: u.username.clone(),
            password: u.password.clone(),
            two_factor: u.two_factor,
            admin: u.admin,
            bot: false,
            blocked,
        });
    }
    let members = s
        .groups
        .iter()
        .flat_map(|g| g.members.keys())
        .chain(s.projects.iter().flat_map(|p| p.members.keys()));
    for m in members {
        add_user(m, &mut users);
    }
    add_user(&s.job.user, &mut users);
    Ok(users)
}

pub(super) fn groups(ctx: &Ctx<'_>, s: &Scenario, gitlab: &Version) -> Result<Vec<Group>, ScenarioError> {
    for (i, g) in s.groups.iter().enumerate() {
        let Some(sso) = &g.saml_sso else { continue };
        if g.path.contains('/') {
            return Err(ctx.err(
                &format!("groups[{i}].saml_sso"),
                "SAML SSO is configured on top-level groups only",
            ));
        }
        if sso.enforce_for_git_and_dependency_proxy && *gitlab < gv::DEPENDENCY_PROXY_SSO_ENFORCEMENT {
            return Err(ctx.err(
                &format!("groups[{i}].saml_sso"),
                format!(
                    "SSO enforcement for the Dependency Proxy arrived with MR !67373, modelled from GitLab {} \
                     (the exact release is UNCONFIRMED, docs/research/dependency-proxy.md Q2)",
                    gv::DEPENDENCY_PROXY_SSO_ENFORCEMENT
                ),
            ));
        }
    }
    Ok(s.groups
        .iter()
        .map(|g| Group {
            path: g.path.clone(),
            visibility: g.visibility,
            members: g.members.clone(),
            dependency_proxy: match g.dependency_proxy {
                Some(b) => Derived::explicit(b),
                None => Derived::by_rule(true, gv::DEPENDENCY_PROXY_GROUP_DEFAULT_SOURCE.to_string()),
            },
            sso_enforced_for_dependency_proxy: g
                .saml_sso
                .as_ref()
                .filter(|s| s.enforce_for_git_and_dependency_proxy)
                .map(|s| s.active_sessions.clone()),
        })
        .collect())
}

pub(super) fn projects(ctx: &Ctx<'_>, s: &Scenario, gitlab: &Version) -> Result<Vec<Project>, ScenarioError> {
    s.projects
        .iter()
        .enumerate()
        .map(|(i, p)| project(ctx, i, p, gitlab))
        .collect()
}

fn project(ctx: &Ctx<'_>, i: usize, p: &scenario::Project, gitlab: &Version) -> Result<Project, ScenarioError> {
    let f = |name: &str| format!("projects[{i}].{name}");
    let created_in = ctx.version(&f("created_in"), &p.created_in)?;
    if created_in > *gitlab {
        return Err(ctx.err(
            &f("created_in"),
            format!("{created_in} is newer than the instance ({gitlab})"),
        ));
    }
    if !p.path.contains('/') {
        return Err(ctx.err(&f("path"), format!("`{}` needs a namespace (group/project)", p.path)));
    }
    let al = p.job_token_allowlist.clone().unwrap_or(scenario::Allowlist {
        enabled: None,
        projects: vec![],
        groups: vec![],
    });
    let default_rule = |on: bool| {
        let when = if on { "in GitLab ≥" } else { "before GitLab" };
        format!(
            "default for projects created {when} {} (created in {created_in}); {}",
            gv::INBOUND_ALLOWLIST_DEFAULT_ON,
            gv::INBOUND_ALLOWLIST_DEFAULT_SOURCE
        )
    };
    let inbound = match al.enabled {
        Some(b) => Derived::explicit(b),
        None => {
            let on = created_in >= gv::INBOUND_ALLOWLIST_DEFAULT_ON;
            Derived::by_rule(on, default_rule(on))
        }
    };
    if !al.groups.is_empty() && *gitlab < gv::GROUP_ALLOWLIST {
        return Err(ctx.err(
            &f("job_token_allowlist.groups"),
            format!(
                "groups can be added to the allowlist from GitLab {} (gitlab-rails.md §4.3)",
                gv::GROUP_ALLOWLIST
            ),
        ));
    }
    let registry_access = match p.container_registry {
        Some(a) => Derived::explicit(a),
        None => Derived::by_rule(
            RegistryAccess::Enabled,
            "GitLab's default for a new project: \"Everyone with access\"",
        ),
    };
    let mut images = Vec::new();
    for (j, spec) in p.images.iter().enumerate() {
        let field = f(&format!("images[{j}]"));
        let img = spec.name();
        let (repo, tag) = scenario::repository_and_tag(img)
            .ok_or_else(|| ctx.err(&field, format!("`{img}` needs a tag (path:tag)")))?;
        let lower = p.path.to_lowercase();
        if repo != lower && !repo.starts_with(&format!("{lower}/")) {
            return Err(ctx.err(&field, format!("`{repo}` is not under the project path `{lower}`")));
        }
        images.push(single_platform(ctx, spec, &field, repo, tag)?);
    }
    Ok(Project {
        id: 1000 + i as u64 + 1,
        path: p.path.clone(),
        visibility: p.visibility,
        created_in,
        registry_access,
        members: p.members.clone(),
        inbound_allowlist: inbound,
        allowlist_projects: al.projects.clone(),
        allowlist_groups: al.groups.clone(),
        images,
        variables: p.variables.clone(),
        file_variables: named_variables(ctx, p, i, "file_variables", &p.file_variables)?,
        raw_variables: raw_variables(ctx, p, i, gitlab)?,
    })
}

/// `raw_variables:` — the "Expand variable reference" checkbox is in every GitLab from 16.0; the
/// release that added it (15.x) is NOT CONFIRMED, so older scenarios are refused.
fn raw_variables(
    ctx: &Ctx<'_>,
    p: &scenario::Project,
    i: usize,
    gitlab: &Version,
) -> Result<std::collections::BTreeSet<String>, ScenarioError> {
    if !p.raw_variables.is_empty() && *gitlab < Version::new(16, 0, 0) {
        return Err(ctx.err(
            &format!("projects[{i}].raw_variables"),
            format!(
                "not modelled: GitLab {gitlab} — \"Expand variable reference\" is in every release from 16.0; the 15.x \
                 release that added it is not confirmed"
            ),
        ));
    }
    named_variables(ctx, p, i, "raw_variables", &p.raw_variables)
}

/// `file_variables:` and `raw_variables:` must name variables of the project, each once.
fn named_variables(
    ctx: &Ctx<'_>,
    p: &scenario::Project,
    i: usize,
    what: &str,
    names: &[String],
) -> Result<std::collections::BTreeSet<String>, ScenarioError> {
    let mut out = std::collections::BTreeSet::new();
    for (j, name) in names.iter().enumerate() {
        let field = format!("projects[{i}].{what}[{j}]");
        if !p.variables.contains_key(name) {
            return Err(ctx.err(&field, format!("`{name}` is not one of the project's variables")));
        }
        if !out.insert(name.clone()) {
            return Err(ctx.err(&field, format!("`{name}` is listed twice")));
        }
    }
    Ok(out)
}

/// An image of a registry other than Docker Hub: one platform (only the Docker Hub mock serves
/// manifest lists).
pub(super) fn single_platform(
    ctx: &Ctx<'_>,
    spec: &scenario::StoredImageSpec,
    field: &str,
    repository: &str,
    tag: &str,
) -> Result<StoredImage, ScenarioError> {
    let layers = ctx.layers(spec, field)?;
    if !spec.platforms().is_empty() {
        return Err(ctx.err(
            &format!("{field}.platforms"),
            "multi-platform images are modelled on docker_hub only",
        ));
    }
    Ok(StoredImage {
        repository: repository.to_string(),
        tag: tag.to_string(),
        layers,
        platforms: Vec::new(),
    })
}
