//! Which kind of registry a log's images come from, as far as the lines show it: Docker Hub
//! (a name without a registry host, or docker.io), GitLab's Dependency Proxy (a
//! `…/dependency_proxy/containers/…` path), or some other host. The patterns diagnose matches
//! with replace hosts by placeholders, so a Docker Hub log and a GitLab-registry scenario can say
//! the same sentence; a scenario whose images come from another kind of registry than every
//! image the log names contradicts it (issue: "a GitLab allowlist for a Docker Hub image").

use std::collections::BTreeSet;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum RegistryClass {
    DockerHub,
    DependencyProxy,
    /// Any other registry host (GitLab's own, a company's, a cloud's).
    Host,
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
            r#"Get "?https?://([^/"\s]+)/v2/"#,
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

/// How a scenario's registries fit the log's: 1 when they share a class or either side names
/// none, 0 when they contradict.
pub fn fit(log: &BTreeSet<RegistryClass>, scenario: &BTreeSet<RegistryClass>) -> u8 {
    u8::from(log.is_empty() || scenario.is_empty() || !log.is_disjoint(scenario))
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
    }
}
