//! gitlab-runner's own splits of image names and `auths` keys, ported byte for byte. They work on
//! the name as written, before the Docker client validates it, so they accept what Docker's
//! grammar refuses (an upper-case path, say): the runner still picks credentials for such a name,
//! and only then does the pull fail.
//!
//! Sources: `helpers/docker/auth/auth.go` (`splitDockerImageName`, `normalizeImageRef`,
//! `convertToHostname`, `convertToRegistryPath`) and `helpers/container/services/services.go`
//! (`SplitNameAndVersion`), read at v16.2.0 and v17.5.0 (gitlab-runner.md §3.3, §6).

use super::Written;

/// `splitDockerImageName`: the registry part of an image as written (not lower-cased;
/// `index.docker.io` and no registry at all are `docker.io`).
pub fn split_docker_image_name(image: &str) -> String {
    match Written::split(image).domain {
        Some("index.docker.io") | None => "docker.io".into(),
        Some(domain) => domain.to_string(),
    }
}

/// `normalizeImageRef`: host lower-cased, path kept, tag and digest dropped; Hub as `docker.io/…`.
pub fn normalize_image_ref(image: &str) -> String {
    let w = Written::split(image);
    match w.domain {
        None => format!("docker.io/{}", w.path),
        Some("index.docker.io") => format!("docker.io/{}", w.path),
        Some(domain) => format!("{}/{}", domain.to_lowercase(), w.path),
    }
}

/// `convertToHostname`: an `auths` key's host (lower-cased from 13.4).
pub fn convert_to_hostname(key: &str) -> String {
    let k = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or("").to_lowercase();
    if host == "index.docker.io" {
        "docker.io".into()
    } else {
        host
    }
}

/// `convertToRegistryPath`: an `auths` key as the path prefix it matches (18.1 →).
pub fn convert_to_registry_path(key: &str) -> String {
    convert_to_registry_path_as(key, true)
}

/// `convertToRegistryPath` of a release: `strips_http` false for v17.5 – v18.0.x, whose scheme
/// regex strips only `https://` (an `http://host` key becomes the path `http:/host`).
pub fn convert_to_registry_path_as(key: &str, strips_http: bool) -> String {
    let scheme_rest = key
        .strip_prefix("https://")
        .or_else(|| if strips_http { key.strip_prefix("http://") } else { None });
    if let Some(rest) = scheme_rest {
        let host = rest.split('/').next().unwrap_or("").to_lowercase();
        return if host == "index.docker.io" {
            "docker.io".into()
        } else {
            host
        };
    }
    let k = key.trim_end_matches('/');
    let (host, path) = match k.split_once('/') {
        Some((h, p)) => (h.to_lowercase(), Some(p)),
        None => (k.to_lowercase(), None),
    };
    match path {
        None => host,
        Some(p) => {
            let last_slash = p.rfind('/').map(|i| i + 1).unwrap_or(0);
            let p = match p[last_slash..].rfind(':') {
                Some(i) => &p[..last_slash + i],
                None => p,
            };
            format!("{host}/{p}")
        }
    }
}

/// What the runner derives from a service's name (`SplitNameAndVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceName {
    /// Registry host **without its port**, plus the path: what `Starting service` prints.
    pub service: String,
    /// The tag, or `latest`.
    pub version: String,
    /// What is pulled: the name as written, or with `:latest` appended when it has no tag.
    pub image_name: String,
}

/// `SplitNameAndVersion` for names the docker reference grammar accepts.
pub fn split_name_and_version(name: &str) -> ServiceName {
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
        Some(v) if !v.is_empty() => ServiceName {
            service: format!("{registry}{rest}"),
            version: v.into(),
            image_name: name.into(),
        },
        _ => ServiceName {
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
        assert_eq!(
            split_docker_image_name("r.example.com:5000/a/b:1"),
            "r.example.com:5000"
        );
        assert_eq!(split_docker_image_name("alpine:3"), "docker.io");
        assert_eq!(split_docker_image_name("index.docker.io/library/alpine"), "docker.io");
        assert_eq!(normalize_image_ref("alpine"), "docker.io/alpine");
        assert_eq!(
            normalize_image_ref("R.example.com/Grp/Img:1@sha256:x"),
            "r.example.com/Grp/Img"
        );
        assert_eq!(convert_to_registry_path("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(
            convert_to_registry_path("r.example.com/grp/img:1"),
            "r.example.com/grp/img"
        );
        assert_eq!(convert_to_hostname("https://R.example.com/v1/"), "r.example.com");
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

    #[test]
    fn http_keys_are_stripped_only_from_18_1() {
        assert_eq!(
            convert_to_registry_path_as("http://reg.example:5000", true),
            "reg.example:5000"
        );
        assert_ne!(
            convert_to_registry_path_as("http://reg.example:5000", false),
            "reg.example:5000"
        );
        assert_eq!(
            convert_to_registry_path_as("https://reg.example:5000", false),
            "reg.example:5000"
        );
    }
}
