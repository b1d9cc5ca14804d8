//! `services:` (gitlab-runner.md §6; `helpers/container/services/services.go` SplitNameAndVersion,
//! read at v16.2.0): the name the `Starting service` line shows and the image it pulls.

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

#[cfg(test)]
mod tests {
    use super::*;

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
