//! `gitlab:`: the instance, its registry, allowlist enforcement and its Dependency Proxy era.

use super::Ctx;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::versions::{self, gitlab as gv};
use crate::world::{Authority, Certificate, Derived, Instance, Overrides};
use semver::Version;

pub(super) fn build(ctx: &Ctx<'_>, s: &Scenario, overrides: &Overrides) -> Result<Instance, ScenarioError> {
    let version = ctx.version_or(&overrides.gitlab, "gitlab.version", &s.gitlab.version)?;
    gv::check_known(&version).map_err(|m| ctx.err("gitlab.version", m.reason))?;
    let (scheme, host) = parse_external_url(&s.gitlab.external_url).map_err(|m| ctx.err("gitlab.external_url", m))?;
    let registry = Authority::parse(&s.gitlab.registry).map_err(|m| ctx.err("gitlab.registry", m))?;
    let enforce = match s.gitlab.enforce_job_token_allowlist {
        Some(b) => {
            if b && version < gv::INSTANCE_ENFORCEMENT_SETTING {
                return Err(ctx.err(
                    "gitlab.enforce_job_token_allowlist",
                    format!(
                        "GitLab {version} has no instance-wide allowlist enforcement (from {})",
                        gv::INSTANCE_ENFORCEMENT_SETTING
                    ),
                ));
            }
            Derived::explicit(b)
        }
        None if version >= gv::INSTANCE_ENFORCEMENT_ON => Derived::by_rule(
            true,
            format!(
                "GitLab {version} ≥ {} enforces it on every instance by default ({})",
                gv::INSTANCE_ENFORCEMENT_ON,
                gv::INSTANCE_ENFORCEMENT_SOURCE
            ),
        ),
        None => Derived::explicit(false),
    };
    let certificate = match (&s.gitlab.certificate, scheme.as_str()) {
        (None, "https") => Certificate::PublicCa,
        (None, _) => Certificate::PlainHttp,
        (Some(c), scheme) => {
            let c = Certificate::parse(c).map_err(|m| ctx.err("gitlab.certificate", m))?;
            if c.is_tls() != (scheme == "https") {
                return Err(ctx.err(
                    "gitlab.certificate",
                    format!("`{c}` does not go with external_url's {scheme}://"),
                ));
            }
            c
        }
    };
    let registry_certificate = match &s.gitlab.registry_certificate {
        Some(c) => Certificate::parse(c).map_err(|m| ctx.err("gitlab.registry_certificate", m))?,
        None => Certificate::default_for(&registry),
    };
    let (proxy_era, proxy_licensed) = proxy_era(&s.gitlab, &version).map_err(|(f, m)| ctx.err(f, m))?;
    Ok(Instance {
        release: gv::release(&version),
        version,
        scheme,
        host,
        registry,
        certificate,
        registry_certificate,
        registry_enabled: true,
        token_expire_minutes: token_expire_minutes(ctx, s.gitlab.registry_token_expire_minutes)?,
        issuer: s
            .gitlab
            .registry_issuer
            .clone()
            .unwrap_or_else(|| "omnibus-gitlab-issuer".into()),
        enforce_allowlist: enforce,
        dependency_proxy: s.gitlab.dependency_proxy.unwrap_or(true),
        proxy_era,
        proxy_licensed,
    })
}

/// The largest `container_registry_token_expire_delay` GitLab stores: the column is a PostgreSQL
/// `integer` (gitlabhq db/structure.sql: `container_registry_token_expire_delay integer DEFAULT 5`).
pub const MAX_TOKEN_EXPIRE_MINUTES: u64 = i32::MAX as u64;

/// "Authorization token duration (minutes)": GitLab validates `numericality: { only_integer: true,
/// greater_than: 0 }` (gitlabhq app/models/application_setting.rb), in an `integer` column.
fn token_expire_minutes(ctx: &Ctx<'_>, written: Option<u64>) -> Result<u64, ScenarioError> {
    match written {
        None => Ok(5),
        Some(m @ 1..=MAX_TOKEN_EXPIRE_MINUTES) => Ok(m),
        Some(m) => Err(ctx.err(
            "gitlab.registry_token_expire_minutes",
            format!(
                "{m}: GitLab accepts 1 to {MAX_TOKEN_EXPIRE_MINUTES} minutes (it must be greater than 0, and the \
                 setting is stored in a PostgreSQL integer column)"
            ),
        )),
    }
}

fn parse_external_url(u: &str) -> Result<(String, Authority), String> {
    let url = url::Url::parse(u).map_err(|e| format!("`{u}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{u}`: external_url must be http or https"));
    }
    let host = url.host_str().ok_or_else(|| format!("`{u}` has no host"))?.to_string();
    Ok((url.scheme().to_string(), Authority { host, port: url.port() }))
}

/// The Dependency Proxy's era for this release (`gv::dependency_proxy_eras`), with the feature
/// flag that switched its authentication on (13.7 – 14.x) applied, and whether the license covers
/// it (Premium before 13.6). Errors name the field.
fn proxy_era(
    gl: &scenario::Gitlab,
    version: &Version,
) -> Result<(Derived<gv::ProxyEra>, bool), (&'static str, String)> {
    let era = versions::lookup(&gv::dependency_proxy_eras(), version)
        .cloned()
        .unwrap_or_else(|| gv::dependency_proxy_eras()[0].clone());
    for name in gl.feature_flags.keys() {
        if name != gv::PRIVATE_GROUPS_FLAG {
            return Err((
                "gitlab.feature_flags",
                format!(
                    "regsim knows one feature flag, `{}`; `{name}` is not modelled",
                    gv::PRIVATE_GROUPS_FLAG
                ),
            ));
        }
    }
    let mut derived = Derived::by_rule(era.value, format!("GitLab {version}: {}", era.source));
    if let Some(&on) = gl.feature_flags.get(gv::PRIVATE_GROUPS_FLAG) {
        if *version < gv::DEPENDENCY_PROXY_AUTHENTICATED || *version >= gv::PRIVATE_GROUPS_FLAG_REMOVED {
            return Err((
                "gitlab.feature_flags",
                format!(
                    "`{}` exists from GitLab {} until its removal in {} (seed 002), not in {version}",
                    gv::PRIVATE_GROUPS_FLAG,
                    gv::DEPENDENCY_PROXY_AUTHENTICATED,
                    gv::PRIVATE_GROUPS_FLAG_REMOVED
                ),
            ));
        }
        let mut e = era.value;
        e.authenticates = on;
        derived = Derived::explicit(e);
    }
    let licensed = !era.value.premium_only
        || matches!(
            gl.license,
            Some(scenario::License::Premium | scenario::License::Ultimate)
        );
    Ok((derived, licensed))
}
