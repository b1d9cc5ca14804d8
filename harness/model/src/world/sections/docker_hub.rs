//! `docker_hub:`: the Dependency Proxy's upstream and the Hub the runner host pulls from itself,
//! its images (the only ones that may be multi-platform) and its pull rate limit per address.

use super::Ctx;
use crate::scenario::{self, Scenario, ScenarioError, StoredImageSpec};
use crate::world::{DockerHub, StoredImage};
use regsim_wire::platform::Platform;
use regsim_wire::reference::hub_repository;

pub(super) fn build(ctx: &Ctx<'_>, s: &Scenario) -> Result<Option<DockerHub>, ScenarioError> {
    let Some(h) = &s.docker_hub else {
        return Ok(None);
    };
    let mut images = Vec::new();
    for (j, spec) in h.images.iter().enumerate() {
        let field = format!("docker_hub.images[{j}]");
        let img = spec.name();
        let (repo, tag) = scenario::repository_and_tag(img)
            .ok_or_else(|| ctx.err(&field, format!("`{img}` needs a tag (name:tag)")))?;
        images.push(StoredImage {
            // Official images live under `library/` (DependencyProxy::Registry.image_path).
            repository: hub_repository(repo),
            tag: tag.to_string(),
            layers: ctx.layers(spec, &field)?,
            platforms: platforms(ctx, spec, &field)?,
        });
    }
    let rate_limit = h.rate_limit.unwrap_or(100);
    let pulls_used = h.pulls_used.unwrap_or(0);
    if pulls_used > rate_limit {
        return Err(ctx.err(
            "docker_hub.pulls_used",
            format!("{pulls_used} pulls used is more than the limit of {rate_limit}"),
        ));
    }
    let runner_host_pulls_used = h.runner_host_pulls_used.unwrap_or(0);
    if runner_host_pulls_used > rate_limit {
        return Err(ctx.err(
            "docker_hub.runner_host_pulls_used",
            format!("{runner_host_pulls_used} pulls used is more than the limit of {rate_limit}"),
        ));
    }
    let account_rate_limit = crate::versions::docker_hub::AUTHENTICATED_PULLS_PER_WINDOW;
    for (name, used) in &h.account_pulls_used {
        let field = format!("docker_hub.account_pulls_used.{name}");
        if !h.accounts.contains_key(name) {
            return Err(ctx.err(&field, format!("`{name}` is not in docker_hub.accounts")));
        }
        if *used > account_rate_limit {
            return Err(ctx.err(
                &field,
                format!("{used} pulls used is more than an account's limit of {account_rate_limit}"),
            ));
        }
    }
    for (i, name) in h.locked_accounts.iter().enumerate() {
        if !h.accounts.contains_key(name) {
            return Err(ctx.err(
                &format!("docker_hub.locked_accounts[{i}]"),
                format!("`{name}` is not in docker_hub.accounts"),
            ));
        }
    }
    let mut private = std::collections::BTreeSet::new();
    for (i, name) in h.private.iter().enumerate() {
        let field = format!("docker_hub.private[{i}]");
        let repository = hub_repository(name);
        if repository.starts_with("library/") {
            return Err(ctx.err(&field, format!("`{name}` is an official image, which are public")));
        }
        if !images.iter().any(|img| img.repository == repository) {
            return Err(ctx.err(&field, format!("`{name}` is not in docker_hub.images")));
        }
        if !private.insert(repository) {
            return Err(ctx.err(&field, format!("`{name}` is named twice")));
        }
    }
    Ok(Some(DockerHub {
        images,
        rate_limit,
        pulls_used,
        runner_host_pulls_used,
        accounts: h.accounts.clone(),
        account_pulls_used: h.account_pulls_used.clone(),
        account_rate_limit,
        locked_accounts: h.locked_accounts.clone(),
        private,
    }))
}

/// `platforms:` of a Docker Hub image: each `os/arch[/variant]` once.
fn platforms(ctx: &Ctx<'_>, spec: &StoredImageSpec, field: &str) -> Result<Vec<Platform>, ScenarioError> {
    let mut out = Vec::new();
    for (k, p) in spec.platforms().iter().enumerate() {
        let at = format!("{field}.platforms[{k}]");
        let parsed =
            Platform::parse(p).ok_or_else(|| ctx.err(&at, format!("`{p}`: expected os/arch or os/arch/variant")))?;
        if out.contains(&parsed) {
            return Err(ctx.err(&at, format!("`{p}` is listed twice")));
        }
        out.push(parsed);
    }
    Ok(out)
}
