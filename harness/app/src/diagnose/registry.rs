//! Which kind of registry a log's images come from, as far as the lines show it: Docker Hub
//! (a name without a registry host, or docker.io), GitLab's Dependency Proxy (a
//! `…/dependency_proxy/containers/…` path), or some other host. The patterns diagnose matches
//! with replace hosts by placeholders, so a Docker Hub log and a GitLab-registry scenario can say
//! the same sentence; a scenario whose images come from another kind of registry than every
//! image the log names contradicts it (issue: "a GitLab allowlist for a Docker Hub image").
//!
//! The cloud registries whose credentials come from a vendor's credential helper (Amazon ECR's
//! `ecr-login`, Google's `gcloud`/`gcr`, Azure's `acr-env`) are recognised by their host names: a
//! scenario on the same cloud fits such a log better than one on any other host, which still fits
//! (a cloud registry is a host too), and Docker Hub does not.

use std::collections::BTreeSet;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum RegistryClass {
    DockerHub,
    DependencyProxy,
    /// Any other registry host (GitLab's own, a company's, a cloud's not named below).
    Host,
    /// Amazon ECR: `ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
    Ecr,
    /// Google Container Registry and Artifact Registry: `gcr.io`, `*.gcr.io`, `*-docker.pkg.dev`.
    Google,
    /// Azure Container Registry: `*.azurecr.io`.
    Acr,
}

impl RegistryClass {
    /// The class a registry of this class also belongs to: every cloud registry is a host.
    fn general(self) -> RegistryClass {
        match self {
            RegistryClass::Ecr | RegistryClass::Google | RegistryClass::Acr => RegistryClass::Host,
            c => c,
        }
    }
}

/// The image references the runner's, Docker's and the CLI's sentences name.
fn image_patterns() -> &'static [regex::Regex] {
    static R: OnceLock<Vec<regex::Regex>> = OnceLock::new();
    R.get_or_init(|| {
        [
            r"Using (?:Docker|docker) executor with image (\S+)",
            r"Pulling docker image (\S+)",
            r"Starting service (\S+)",
            r#"failed to pull image "([^"]+)""#,
            r"pull access denied for ([^,\s]+),",
            r"manifest for (\S+) not found",
            r#"Head "https?://([^"]+)/manifests/"#,
            // A request's host, with the `/` that makes it a host rather than a Docker Hub short
            // name (docker-compose's own requests have no `/v2/`).
            r#"Get "?https?://([^/"\s]+/)"#,
            r"(?:The push refers to repository|The push refers to a repository) \[([^\]]+)\]",
            r"Error response from daemon: [^:]*repository ([^\s:]+) not found",
        ]
        .iter()
        .map(|p| regex::Regex::new(p).expect("a valid pattern"))
        .collect()
    })
}

/// The class of one reference (or a registry host, or `host/v2/path`).
pub fn classify(reference: &str) -> Option<RegistryClass> {
    let r = reference.trim_matches(|c| c == '"' || c == '\'' || c == '.');
    if r.is_empty() || super::pattern::is_redacted(r) {
        // A redacted name says nothing.
        return None;
    }
    if r.contains("/dependency_proxy/containers/") {
        return Some(RegistryClass::DependencyProxy);
    }
    let first = r.split('/').next().unwrap_or_default();
    let has_host = r.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if !has_host {
        return Some(RegistryClass::DockerHub);
    }
    let host = first.split(':').next().unwrap_or_default().to_ascii_lowercase();
    if matches!(
        host.as_str(),
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
    ) {
        return Some(RegistryClass::DockerHub);
    }
    // Account, region or project parts are what people redact (`<aws-id>.dkr.ecr.<region>…`):
    // the vendor's part of the name is enough.
    if host.contains(".dkr.ecr.") && host.ends_with(".amazonaws.com") {
        return Some(RegistryClass::Ecr);
    }
    if host == "gcr.io" || host.ends_with(".gcr.io") || host.ends_with("-docker.pkg.dev") {
        return Some(RegistryClass::Google);
    }
    if host.ends_with(".azurecr.io") {
        return Some(RegistryClass::Acr);
    }
    Some(RegistryClass::Host)
}

/// The classes of the images `lines` name.
pub fn classes<'a>(lines: impl Iterator<Item = &'a str>) -> BTreeSet<RegistryClass> {
    let mut out = BTreeSet::new();
    for l in lines {
        for re in image_patterns() {
            for c in re.captures_iter(l) {
                if let Some(class) = c.get(1).and_then(|m| classify(m.as_str())) {
                    out.insert(class);
                }
            }
        }
    }
    out
}

/// How a scenario's registries fit the log's: 2 when they share a cloud registry's class, 1 when
/// they share a class once cloud registries count as hosts (or either side names none), 0 when
/// they contradict.
pub fn fit(log: &BTreeSet<RegistryClass>, scenario: &BTreeSet<RegistryClass>) -> u8 {
    if log.is_empty() || scenario.is_empty() {
        return 1;
    }
    if log.iter().any(|c| c.general() != *c && scenario.contains(c)) {
        return 2;
    }
    let general = |set: &BTreeSet<RegistryClass>| set.iter().map(|c| c.general()).collect::<BTreeSet<_>>();
    u8::from(!general(log).is_disjoint(&general(scenario)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_the_usual_sentences() {
        use RegistryClass::*;
        assert_eq!(classify("alpine:3.19"), Some(DockerHub));
        assert_eq!(classify("deployer/deployer:v7"), Some(DockerHub));
        assert_eq!(classify("docker.io/library/alpine:3"), Some(DockerHub));
        assert_eq!(classify("registry.gitlab.com/g/p/img:1"), Some(Host));
        assert_eq!(
            classify("gitlab.example.com:443/g/dependency_proxy/containers/alpine:3"),
            Some(DependencyProxy)
        );
        assert_eq!(classify("*****/g/app:1"), None);
        assert_eq!(classify("[MASKED]/g/app:1"), None);
        assert_eq!(classify("<REMOVED>/g/app"), None);
        let log = classes(
            ["ERROR: Job failed: failed to pull image \"deployer/deployer:v7\" with specified policies [always]"]
                .into_iter(),
        );
        assert_eq!(log, [DockerHub].into());
        assert_eq!(fit(&log, &[Host].into()), 0);
        assert_eq!(fit(&log, &[Host, DockerHub].into()), 1);
        assert_eq!(fit(&log, &BTreeSet::new()), 1);
        assert_eq!(
            classify("<aws-id>.dkr.ecr.<region>.amazonaws.com/my-registry:latest"),
            Some(Ecr)
        );
        assert_eq!(
            classify("XXXXXX.dkr.ecr.eu-west-1.amazonaws.com/v2/img/manifests/latest"),
            Some(Ecr)
        );
        assert_eq!(classify("europe-west1-docker.pkg.dev/p/r/img:1"), Some(Google));
        assert_eq!(classify("eu.gcr.io/p/img"), Some(Google));
        assert_eq!(classify("corp.azurecr.io/img:1"), Some(Acr));
        let ecr_log: BTreeSet<_> = [Ecr].into();
        assert_eq!(fit(&ecr_log, &[Ecr].into()), 2);
        assert_eq!(fit(&ecr_log, &[Host].into()), 1);
        assert_eq!(fit(&ecr_log, &[Acr].into()), 1);
        assert_eq!(fit(&ecr_log, &[DockerHub].into()), 0);
        assert_eq!(fit(&[Host].into(), &[Ecr].into()), 1);
        let seed_004 = "ERROR: Preparation failed: Error response from daemon: Get \
                        https://docker-registry.samchu.com/v2/node/manifests/10-alpine: no basic auth credentials";
        assert_eq!(classes([seed_004].into_iter()), [Host].into());
    }
}
