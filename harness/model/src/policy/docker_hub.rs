//! Who may pull a Docker Hub repository, as a pure function of the world model. The Hub's mock
//! only translates the answer: a repository the caller may not read is answered exactly as one
//! that does not exist (401 insufficient_scope; docs/research/registries-identities.md §1.3).

use crate::world::DockerHub;

/// May the holder of a token for `account` (`None`: anonymous) pull `repository`
/// (`library/alpine`, `acme/build-tools`)? Public repositories: anyone. Private ones: the
/// account whose name is the repository's namespace (Docker Hub's personal namespaces;
/// organisations' teams are not modelled).
pub fn may_pull(hub: &DockerHub, repository: &str, account: Option<&str>) -> bool {
    if !hub.private.contains(repository) {
        return true;
    }
    let namespace = repository.split('/').next().unwrap_or_default();
    account == Some(namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(private: &[&str]) -> DockerHub {
        DockerHub {
            images: Vec::new(),
            rate_limit: 100,
            pulls_used: 0,
            runner_host_pulls_used: 0,
            accounts: Default::default(),
            account_pulls_used: Default::default(),
            account_rate_limit: 200,
            locked_accounts: Vec::new(),
            private: private.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn private_repositories_are_their_namespace_account_s() {
        let h = hub(&["acme/build-tools"]);
        assert!(may_pull(&h, "library/alpine", None));
        assert!(may_pull(&h, "acme/public-thing", None));
        assert!(!may_pull(&h, "acme/build-tools", None));
        assert!(!may_pull(&h, "acme/build-tools", Some("someone-else")));
        assert!(may_pull(&h, "acme/build-tools", Some("acme")));
    }
}
