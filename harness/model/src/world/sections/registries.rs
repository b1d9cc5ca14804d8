//! `registries:`: docker/distribution registries that are not GitLab's, with htpasswd or no auth.

use super::Ctx;
use super::namespaces::single_platform;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::world::{Authority, Certificate, Instance, OtherRegistry, RegistryAuth};

pub(super) fn build(ctx: &Ctx<'_>, s: &Scenario, gitlab: &Instance) -> Result<Vec<OtherRegistry>, ScenarioError> {
    let mut registries = Vec::new();
    for (i, r) in s.registries.iter().enumerate() {
        let f = |name: &str| format!("registries[{i}].{name}");
        let host = Authority::parse(&r.host).map_err(|m| ctx.err(&f("host"), m))?;
        let gitlab_host = host.host.eq_ignore_ascii_case(&gitlab.host.host) && host.port == gitlab.host.port;
        if host == gitlab.registry || gitlab_host {
            return Err(ctx.err(
                &f("host"),
                format!("`{host}` is GitLab's own; describe GitLab's registry under `gitlab`"),
            ));
        }
        let auth = match r.auth.as_str() {
            "basic" => RegistryAuth::Basic {
                realm: r.realm.clone().unwrap_or_else(|| "Registry Realm".into()),
                users: r.users.clone(),
            },
            "none" => RegistryAuth::None,
            other => return Err(ctx.err(&f("auth"), format!("`{other}`: expected basic or none"))),
        };
        let certificate = match &r.certificate {
            Some(c) => Certificate::parse(c).map_err(|m| ctx.err(&f("certificate"), m))?,
            None => Certificate::default_for(&host),
        };
        let mut images = Vec::new();
        for (j, spec) in r.images.iter().enumerate() {
            let field = f(&format!("images[{j}]"));
            let img = spec.name();
            let (repo, tag) = scenario::repository_and_tag(img)
                .ok_or_else(|| ctx.err(&field, format!("`{img}` needs a tag (path:tag)")))?;
            images.push(single_platform(ctx, spec, &field, repo, tag)?);
        }
        registries.push(OtherRegistry {
            host,
            certificate,
            auth,
            images,
        });
    }
    Ok(registries)
}
