//! Who may pull from a registry that is not GitLab's, as a pure function of the world model
//! (docs/research/registries-identities.md §2–§5). Each product's server only translates the
//! answer into its own challenge and body.
//!
//! The rule regsim models for every product: an account whose password is right may pull every
//! repository; anyone may pull a repository under a public project (Harbor's public projects,
//! Quay's public repositories, Nexus with anonymous access). ECR passwords can be expired tokens.

use crate::world::{OtherRegistry, RegistryAuth};

/// Who is asking, as the registry's token service or Basic check established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    Anonymous,
    /// An account that proved its password.
    Account(String),
}

/// What a registry makes of `user:password` (`None`: no credentials at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Anonymous,
    Account(String),
    /// A known account with a wrong password, or an unknown name.
    Wrong,
    /// ECR: a token that was right once and has expired.
    Expired,
}

pub fn login(registry: &OtherRegistry, credentials: Option<(&str, &str)>) -> Login {
    let Some((user, password)) = credentials else {
        return Login::Anonymous;
    };
    let Some(accounts) = registry.auth.accounts() else {
        return Login::Wrong;
    };
    if let RegistryAuth::Ecr { expired, .. } = &registry.auth
        && expired.iter().any(|e| e == password)
    {
        return Login::Expired;
    }
    match accounts.get(user) {
        Some(p) if p == password => Login::Account(user.to_string()),
        _ => Login::Wrong,
    }
}

/// May `who` pull `repository`?
pub fn may_pull(registry: &OtherRegistry, who: &Requester, repository: &str) -> bool {
    match who {
        Requester::Account(_) => true,
        Requester::Anonymous => registry.auth.public_projects().iter().any(|p| {
            repository
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{Authority, Certificate, Product};
    use std::collections::BTreeMap;

    fn harbor(public: &[&str]) -> OtherRegistry {
        let mut users = BTreeMap::new();
        users.insert("robot$ci+pull".to_string(), "s3cret".to_string());
        OtherRegistry {
            host: Authority::parse("harbor.example.com").unwrap(),
            certificate: Certificate::PublicCa,
            auth: RegistryAuth::Product {
                product: Product::Harbor,
                users,
                public: public.iter().map(|s| s.to_string()).collect(),
                token_service: crate::world::TokenServiceFront::Service,
            },
            images: Vec::new(),
        }
    }

    #[test]
    fn accounts_pull_and_anonymous_only_public_projects() {
        let h = harbor(&["library"]);
        assert_eq!(
            login(&h, Some(("robot$ci+pull", "s3cret"))),
            Login::Account("robot$ci+pull".into())
        );
        assert_eq!(login(&h, Some(("robot$ci+pull", "wrong"))), Login::Wrong);
        assert_eq!(login(&h, Some(("robot+pull", "s3cret"))), Login::Wrong);
        assert_eq!(login(&h, None), Login::Anonymous);
        assert!(may_pull(&h, &Requester::Account("x".into()), "team/app"));
        assert!(may_pull(&h, &Requester::Anonymous, "library/alpine"));
        assert!(!may_pull(&h, &Requester::Anonymous, "libraryx/alpine"));
        assert!(!may_pull(&h, &Requester::Anonymous, "team/app"));
    }
}
