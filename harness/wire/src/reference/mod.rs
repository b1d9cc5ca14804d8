//! Image references: the one type regsim reads names into ([`Reference`]), and the one place the
//! Go code that splits names is ported. Everything that splits an image name uses this module:
//!
//! - [`Written`]: a name as written, split the way Docker's `reference` package splits one
//!   (docker/distribution `splitDockerDomain` and its `[:tag][@digest]` grammar), not yet
//!   validated: what a pasted log, or a runner that splits before Docker validates, works with.
//! - [`Reference`]: `ParseNormalizedNamed` — the written name normalised (Docker Hub's
//!   `docker.io/library/…`) and validated, with the "familiar" forms the daemon prints.
//! - [`gitlab_runner`]: gitlab-runner's own string splits of image names and `auths` keys,
//!   byte for byte; they accept names Docker's grammar refuses, because the runner runs them
//!   before the Docker client validates anything.

pub mod gitlab_runner;

/// A name as written, split without validation: `[domain/]path[:tag][@digest]`. The domain is a
/// first component that has a `.` or `:` or is `localhost`; the tag follows the last `:` after
/// the last `/`; the digest follows the first `@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written<'a> {
    pub domain: Option<&'a str>,
    pub path: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> Written<'a> {
    pub fn split(s: &'a str) -> Written<'a> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        let (domain, path) = match name.split_once('/') {
            Some((first, remainder)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (Some(first), remainder)
            }
            _ => (None, name),
        };
        Written {
            domain,
            path,
            tag,
            digest,
        }
    }
}

/// Why a name is not a reference: distribution's `ErrReferenceInvalidFormat` and
/// `ErrNameNotCanonical`'s lower-case sibling, in its words (the Docker client prints them bare).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name must be lowercase")]
    NotLowercase,
    /// `ErrNameTooLong`: the name with its domain (`docker.io/library/…` for Hub images) is over
    /// [`NAME_TOTAL_LENGTH_MAX`] characters.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
}

/// distribution's `NameTotalLengthMax`: `Parse` refuses a name (`matches[1]`, the domain
/// included, since `ParseNormalizedNamed` parses `domain + "/" + remainder`) longer than this
/// with `ErrNameTooLong` (distribution/distribution reference/reference.go, normalize.go).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `registry.example.com:5050`, …
    pub domain: String,
    /// Repository path, with `library/` for official Hub images.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

const HUB: &str = "docker.io";

/// A repository as Docker Hub names it: official images live under `library/` (docker's
/// normalisation, and GitLab's `DependencyProxy::Registry.image_path` alike).
pub fn hub_repository(path: &str) -> String {
    if path.contains('/') {
        path.to_string()
    } else {
        format!("library/{path}")
    }
}

impl Reference {
    /// `ParseNormalizedNamed`: the [`Written`] split, Docker Hub when there is no domain, then the
    /// grammar's checks (lower-case path components, the tag's characters).
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let invalid = || ReferenceError::InvalidFormat;
        if s.is_empty() || s.chars().any(|c| c.is_whitespace()) {
            return Err(invalid());
        }
        let w = Written::split(s);
        let digest = w.digest.map(str::to_string);
        let tag = w.tag.map(str::to_string);
        let domain = match w.domain {
            // `index.docker.io` is Docker Hub's legacy name (`legacyDefaultDomain`).
            Some("index.docker.io") | None => HUB.to_string(),
            Some(d) => d.to_string(),
        };
        let path = if domain == HUB {
            hub_repository(w.path)
        } else {
            w.path.to_string()
        };
        let path_ok = !path.is_empty()
            && path.split('/').all(|c| {
                !c.is_empty()
                    && c.chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
                    && c.chars().next().is_some_and(|ch| ch.is_ascii_alphanumeric())
            });
        if !path_ok {
            return Err(if path.chars().any(|c| c.is_ascii_uppercase()) {
                ReferenceError::NotLowercase
            } else {
                invalid()
            });
        }
        if let Some(t) = &tag
            && (t.is_empty() || t.len() > 128 || !t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
        {
            return Err(invalid());
        }
        // Checked after the grammar, as `Parse` does: a long name that is also malformed is
        // `invalid reference format`.
        if domain.len() + 1 + path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Reference {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// `FamiliarName`: Hub images without `docker.io/` and `library/`.
    pub fn familiar_name(&self) -> String {
        if self.domain == HUB {
            self.path.strip_prefix("library/").unwrap_or(&self.path).to_string()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// `FamiliarString`: familiar name plus `:tag` and/or `@digest`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// `TagNameOnly`: `latest` when neither tag nor digest is given.
    pub fn tag_or_latest(&self) -> String {
        self.tag.clone().unwrap_or_else(|| "latest".into())
    }

    /// `getAPITagFromNamedRef`: what the Docker client sends as `tag` with `fromImage`
    /// (`POST /images/create`): the digest, else the tag, else `latest`.
    pub fn api_tag(&self) -> String {
        self.digest.clone().unwrap_or_else(|| self.tag_or_latest())
    }

    /// The registry host dockerd contacts (`registry-1.docker.io` for Hub).
    pub fn registry_host(&self) -> String {
        if self.domain == HUB {
            "registry-1.docker.io".into()
        } else {
            self.domain.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_docker() {
        let r = Reference::parse("your.gitlab.address.com:5000/project_a/group/container:1.2.3").unwrap();
        assert_eq!(r.domain, "your.gitlab.address.com:5000");
        assert_eq!(r.path, "project_a/group/container");
        assert_eq!(
            r.familiar_string(),
            "your.gitlab.address.com:5000/project_a/group/container:1.2.3"
        );
        let h = Reference::parse("node:10-alpine").unwrap();
        assert_eq!(
            (h.domain.as_str(), h.path.as_str(), h.familiar_name().as_str()),
            ("docker.io", "library/node", "node")
        );
        let p = Reference::parse("registry.example.com:5050/grp/img").unwrap();
        assert_eq!(p.tag, None);
        assert_eq!(p.tag_or_latest(), "latest");
        assert!(Reference::parse("Registry.example.com/Grp/img").is_err());
        let d = Reference::parse("index.docker.io/alpine:3@sha256:abc").unwrap();
        assert_eq!((d.domain.as_str(), d.path.as_str()), ("docker.io", "library/alpine"));
        assert_eq!(d.api_tag(), "sha256:abc");
        let long = format!("registry.example.com/{}", "a".repeat(234));
        assert_eq!(long.len(), NAME_TOTAL_LENGTH_MAX);
        assert!(Reference::parse(&format!("{long}:1")).is_ok());
        assert_eq!(
            Reference::parse(&format!("{long}b:1")),
            Err(ReferenceError::NameTooLong)
        );
        // Hub names are measured normalised: `docker.io/library/` is 18 characters.
        assert_eq!(Reference::parse(&"a".repeat(238)), Err(ReferenceError::NameTooLong));
        assert!(Reference::parse(&"a".repeat(237)).is_ok());
        assert_eq!(
            Reference::parse(&format!("{}B", "a".repeat(300))),
            Err(ReferenceError::NotLowercase)
        );
        let w = Written::split("localhost:5000");
        assert_eq!((w.domain, w.path, w.tag), (None, "localhost", Some("5000")));
    }
}
