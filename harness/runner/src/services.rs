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

/// What the runner derives from a service's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Registry host **without its port**, plus the path: what `Starting service` prints.
    pub service: String,
    /// The tag, or `latest`.
    pub version: String,
    /// What is pulled: the name as written, or with `:latest` appended when it has no tag.
    pub image_name: String,
}

/// `SplitNameAndVersion` for names the docker reference grammar accepts.
pub fn split_name_and_version(name: &str) -> Service {
    // A tag is what follows the last `:` after the last `/`.
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (without_version, version) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    // `^(.*?)(|:[0-9]+)(|/.*)$`: the registry part loses a `:port`.
    let (first, rest) = match without_version.find('/') {
        Some(i) => (&without_version[..i], &without_version[i..]),
        None => (without_version, ""),
    };
    let registry = match first.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => first,
    };
    match version {
        Some(v) if !v.is_empty() => Service {
            service: format!("{registry}{rest}"),
            version: v.into(),
            image_name: name.into(),
        },
        _ => Service {
            service: format!("{registry}{rest}"),
            version: "latest".into(),
            image_name: format!("{without_version}:latest"),
        },
    }
}

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

    #[test]
    fn names_as_the_runner_splits_them() {
        let s = split_name_and_version("docker:dind");
        assert_eq!(
            (s.service.as_str(), s.version.as_str(), s.image_name.as_str()),
            ("docker", "dind", "docker:dind")
        );
        let s = split_name_and_version("postgres");
        assert_eq!(
            (s.service.as_str(), s.version.as_str(), s.image_name.as_str()),
            ("postgres", "latest", "postgres:latest")
        );
        let s = split_name_and_version("registry.example.com:5050/grp/db");
        assert_eq!(s.service, "registry.example.com/grp/db");
        assert_eq!(s.image_name, "registry.example.com:5050/grp/db:latest");
        let s = split_name_and_version("registry.example.com:5050/grp/db:15");
        assert_eq!(
            (s.service.as_str(), s.version.as_str()),
            ("registry.example.com/grp/db", "15")
        );
    }
}
