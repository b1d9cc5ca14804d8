//! `registries:`: docker/distribution registries that are not GitLab's, with htpasswd or no auth.

use super::Ctx;
use super::namespaces::single_platform;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::world::{Authority, Certificate, Instance, OtherRegistry, Product, RegistryAuth, TokenServiceFront};

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
        let kind = r.kind.as_deref().unwrap_or("distribution");
        let refuse = |field: &str, why: &str| Err(ctx.err(&f(field), format!("{why} (kind {kind})")));
        if kind != "distribution" && r.auth.is_some() {
            return refuse(
                "auth",
                "`auth` describes upstream distribution; this product brings its own",
            );
        }
        if !matches!(kind, "harbor" | "nexus" | "quay") && !r.public.is_empty() {
            return refuse("public", "public projects belong to harbor, nexus and quay");
        }
        if kind != "ecr" && !r.expired_passwords.is_empty() {
            return refuse("expired_passwords", "expired authorization tokens belong to ecr");
        }
        let token_service = match r.token_service.as_deref() {
            None | Some("service") => TokenServiceFront::Service,
            Some(t) if matches!(kind, "harbor" | "nexus" | "quay") => match t
                .strip_prefix("html:")
                .and_then(|n| n.parse::<u16>().ok())
                .filter(|n| (200..600).contains(n))
            {
                Some(status) => TokenServiceFront::HtmlPage(status),
                None => {
                    return Err(ctx.err(
                        &f("token_service"),
                        format!("`{t}`: expected service or html:STATUS (200 – 599)"),
                    ));
                }
            },
            Some(_) => {
                return refuse(
                    "token_service",
                    "a token service of its own belongs to harbor, nexus and quay",
                );
            }
        };
        let product = |product| RegistryAuth::Product {
            product,
            users: r.users.clone(),
            public: r.public.clone(),
            token_service,
        };
        let auth = match kind {
            "distribution" => match r.auth.as_deref() {
                Some("basic") => RegistryAuth::Basic {
                    realm: r.realm.clone().unwrap_or_else(|| "Registry Realm".into()),
                    users: r.users.clone(),
                },
                Some("none") => RegistryAuth::None,
                Some(other) => return Err(ctx.err(&f("auth"), format!("`{other}`: expected basic or none"))),
                None => return Err(ctx.err(&f("auth"), "missing: basic or none".to_string())),
            },
            "harbor" => product(Product::Harbor),
            "nexus" => product(Product::Nexus),
            "quay" => product(Product::Quay),
            "ecr" => {
                if !ecr_host(&host.host) {
                    return Err(ctx.err(
                        &f("host"),
                        format!(
                            "`{host}` is no ECR registry name (ACCOUNT.dkr.ecr.REGION.amazonaws.com, the \
                             pattern docker-credential-ecr-login accepts)"
                        ),
                    ));
                }
                RegistryAuth::Ecr {
                    users: r.users.clone(),
                    expired: r.expired_passwords.clone(),
                }
            }
            other => {
                return Err(ctx.err(
                    &f("kind"),
                    format!("`{other}`: expected distribution, harbor, nexus, quay or ecr"),
                ));
            }
        };
        if r.realm.is_some() && !matches!(auth, RegistryAuth::Basic { .. }) {
            return refuse(
                "realm",
                "`realm` is the htpasswd realm of a distribution registry with basic auth",
            );
        }
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

/// `^(\d{12})\.dkr[\.\-]ecr(\-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.amazonaws\.com(\.cn)?$`, the
/// commercial part of the pattern docker-credential-ecr-login v0.12.0 accepts
/// (`ecr-login/api/client.go:42`).
pub fn ecr_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    let Some((account, rest)) = h.split_once('.') else {
        return false;
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let rest = rest
        .strip_prefix("dkr.ecr")
        .or_else(|| rest.strip_prefix("dkr-ecr"))
        .unwrap_or("");
    let rest = rest.strip_prefix("-fips").unwrap_or(rest);
    let rest = rest.strip_prefix('.').unwrap_or("");
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
        .unwrap_or("");
    !region.is_empty()
        && region.as_bytes()[0].is_ascii_alphanumeric()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn ecr_names() {
        assert!(super::ecr_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"));
        assert!(super::ecr_host("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"));
        assert!(!super::ecr_host("12345678901.dkr.ecr.eu-west-1.amazonaws.com"));
        assert!(!super::ecr_host("123456789012.dkr.ecr.amazonaws.com"));
        assert!(!super::ecr_host("registry.example.com"));
    }
}
