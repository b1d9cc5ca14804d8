//! `services:` (gitlab-runner.md §6; `helpers/container/services/services.go` SplitNameAndVersion,
//! read at v16.2.0): the name the `Starting service` line shows and the image it pulls.

/// A service the runner started; regsim assumes its container comes up and answers the runner's
/// health check (service containers are not simulated).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StartedService {
    /// The image as pulled (`…/docker:18.09.7-dind`).
    pub image_name: String,
    /// The tag (`18.09.7-dind`).
    pub version: String,
    pub links: Vec<String>,
}

/// What the runner derives from a service's name (the port of `SplitNameAndVersion` is with the
/// other splits of names, in `regsim_wire::reference::gitlab_runner`).
pub use regsim_wire::reference::gitlab_runner::{ServiceName as Service, split_name_and_version};

/// The names the build container reaches a service by: its links (legacy links, or network
/// aliases with FF_NETWORK_PER_BUILD). `splitServiceAndVersion` derives two from the service
/// (`/` → `__`, and `/` → `-` when that differs; gitlab-runner@v11.7.0
/// executors/docker/executor_docker.go:653-660), then the job's `alias:` is added: one value up
/// to v15.7, split on commas and blanks from v15.8.0 (`Image.Aliases`, common/network.go:243).
/// Anything else the build container looks up goes to its DNS resolver.
pub fn link_names(s: &Service, alias: Option<&str>, aliases_split: bool) -> Vec<String> {
    let mut names = vec![s.service.replace('/', "__")];
    let alternative = s.service.replace('/', "-");
    if alternative != names[0] {
        names.push(alternative);
    }
    match alias {
        Some(a) if aliases_split => names.extend(a.replace(',', " ").split_whitespace().map(str::to_string)),
        Some(a) if !a.is_empty() => names.push(a.to_string()),
        _ => {}
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_names_as_the_runner_derives_them() {
        let s =
            split_name_and_version("gitlab.example.com:443/my-group/dependency_proxy/containers/docker:18.09.7-dind");
        assert_eq!(
            link_names(&s, None, false),
            [
                "gitlab.example.com__my-group__dependency_proxy__containers__docker",
                "gitlab.example.com-my-group-dependency_proxy-containers-docker"
            ]
        );
        assert_eq!(link_names(&s, Some("docker"), false)[2], "docker");
        let d = split_name_and_version("docker:dind");
        assert_eq!(link_names(&d, None, true), ["docker"]);
        assert_eq!(link_names(&d, Some("a, b"), true), ["docker", "a", "b"]);
        assert_eq!(link_names(&d, Some("a, b"), false), ["docker", "a, b"]);
    }
}
