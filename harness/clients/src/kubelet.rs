//! The kubelet's part of a pod's image pulls (docs/research/clients-inside-job.md §2; Kubernetes
//! 1.27 – 1.31 read in `pkg/kubelet/kuberuntime/kuberuntime_image.go`,
//! `pkg/credentialprovider/keyring.go`, `secrets/secrets.go`, `images/image_manager.go`): the
//! keyring built from the pod's `imagePullSecrets`, one CRI `PullImage` per matching credential
//! through the node's containerd, the errors aggregated, and the container's waiting reason and
//! message as the runner reads them. The node's own keyring (its config.json, credential-provider
//! plugins) is empty here.

use crate::containerd::{CriAuth, SimulatedContainerd};
use base64::Engine as _;
use regsim_model::versions::kubelet;
use regsim_wire::NotModelled;
use semver::Version;

/// One credential of the keyring: what the CRI request gets (Username and Password only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringCredential {
    pub username: String,
    pub password: String,
}

/// `BasicDockerKeyring`: credentials under normalised keys, looked up in reverse lexicographic
/// key order (keyring.go `Add`, `Lookup`).
#[derive(Debug, Default, Clone)]
pub struct DockerKeyring {
    keys: Vec<(String, Vec<KeyringCredential>)>,
}

/// `Add`'s key: `https://` added where no scheme is written, then dropped; a leading `/v1/` or
/// `/v2/` becomes `/`; the host alone when no path is left.
fn normalised_key(written: &str) -> String {
    let rest = written
        .strip_prefix("https://")
        .or_else(|| written.strip_prefix("http://"))
        .unwrap_or(written);
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = if path.starts_with("/v2/") || path.starts_with("/v1/") {
        &path[3..]
    } else {
        path
    };
    if !path.is_empty() && path != "/" {
        format!("{host}{path}")
    } else {
        host.to_string()
    }
}

/// `filepath.Match` for one dot-separated part, with `*` and `?` (no character classes).
fn part_matches(glob: &str, target: &str) -> bool {
    fn go(g: &[u8], t: &[u8]) -> bool {
        match (g.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&g[1..], t) || (!t.is_empty() && go(g, &t[1..])),
            (Some(b'?'), Some(_)) => go(&g[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&g[1..], &t[1..]),
            _ => false,
        }
    }
    go(glob.as_bytes(), target.as_bytes())
}

/// `host[:port]` and path of a schemeless URL.
fn split(s: &str) -> (Vec<&str>, Option<&str>, &str) {
    let (authority, path) = match s.find('/') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    (host.split('.').collect(), port, path)
}

/// `URLsMatch`: equal ports, as many host parts each matching its glob, the path a prefix.
fn urls_match(key: &str, image: &str) -> bool {
    let (gh, gp, gpath) = split(key);
    let (th, tp, tpath) = split(image);
    gp == tp && gh.len() == th.len() && gh.iter().zip(&th).all(|(g, t)| part_matches(g, t)) && tpath.starts_with(gpath)
}

impl DockerKeyring {
    /// `MakeDockerKeyring` over the pod's pull secrets in order, each an `auths`-style map of key →
    /// entry (`username`/`password` or `auth`). `Err` is the error every pull of the pod then
    /// returns.
    pub fn from_secrets(secrets: &[Vec<(String, serde_json::Value)>]) -> Result<Result<Self, String>, NotModelled> {
        let mut keyring = DockerKeyring::default();
        for secret in secrets {
            for (written, entry) in secret {
                let field = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                let auth = field("auth");
                let credential = if auth.is_empty() {
                    KeyringCredential {
                        username: field("username"),
                        password: field("password"),
                    }
                } else {
                    // DockerConfigEntry.UnmarshalJSON → decodeDockerConfigFieldAuth (config.go:290-310).
                    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(auth.as_bytes()) else {
                        return Err(NotModelled::new(format!(
                            "the pull secret's `auth` for `{written}` is not base64: the kubelet's error names the byte \
                             offset (`illegal base64 data at input byte N`), which regsim does not compute"
                        )));
                    };
                    let s = String::from_utf8_lossy(&raw).into_owned();
                    match s.split_once(':') {
                        Some((u, p)) => KeyringCredential {
                            username: u.to_string(),
                            password: p.to_string(),
                        },
                        None => {
                            return Ok(Err(
                                "unable to parse auth field, must be formatted as base64(username:password)".into(),
                            ));
                        }
                    }
                };
                let key = normalised_key(written);
                if keyring.keys.iter().any(|(k, _)| *k == key) {
                    return Err(NotModelled::new(format!(
                        "two pull-secret entries under the key `{key}`: how the kubelet's keyring orders them is not \
                         modelled"
                    )));
                }
                keyring.keys.push((key, vec![credential]));
            }
        }
        keyring.keys.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(Ok(keyring))
    }

    /// `Lookup`: every matching key's credentials, keys in reverse lexicographic order. `repo` is
    /// the image's name without tag or digest, with its registry (`ParseNormalizedNamed().Name()`).
    pub fn lookup(&self, repo: &str) -> Vec<KeyringCredential> {
        self.keys
            .iter()
            .filter(|(k, _)| urls_match(k, repo))
            .flat_map(|(_, c)| c.iter().cloned())
            .collect()
    }
}

/// `utilerrors.NewAggregate(errs).Error()`: one error as it is; distinct messages as `[e1, e2]`.
fn aggregate(errs: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errs {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// The node: its kubelet release and its containerd.
pub struct SimulatedKubelet {
    pub version: Version,
    pub runtime: SimulatedContainerd,
}

/// A container whose image could not be pulled: the `ErrImagePull` message (the pull's error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullFailure {
    pub message: String,
}

/// The CRI `PullImage` calls the kubelet makes for `image` (the container's image as the pod spec
/// writes it): the image with its default tag, and one auth per matching credential in keyring
/// order, or a single call without auth when none matches.
pub fn cri_attempts(image: &str, keyring: &DockerKeyring) -> Result<(String, Vec<Option<CriAuth>>), NotModelled> {
    // applyDefaultImageTag: a name without tag or digest gets `:latest`.
    let reference = regsim_wire::reference::Reference::parse(image).map_err(|e| {
        NotModelled::new(format!(
            "`{image}`: the kubelet's InvalidImageName path is not modelled ({e})"
        ))
    })?;
    let spec = if reference.tag.is_none() && reference.digest.is_none() {
        format!("{image}:latest")
    } else {
        image.to_string()
    };
    let repo = format!("{}/{}", reference.domain, reference.path);
    let credentials = keyring.lookup(&repo);
    let attempts = if credentials.is_empty() {
        vec![None]
    } else {
        credentials
            .into_iter()
            .map(|c| {
                Some(CriAuth {
                    username: c.username,
                    password: c.password,
                    ..Default::default()
                })
            })
            .collect()
    };
    Ok((spec, attempts))
}

impl SimulatedKubelet {
    /// `EnsureImageExists` on a node without the image: `Ok(image id)` or the failure.
    /// `image` is the container's image as the pod spec writes it.
    pub async fn ensure_image_exists(
        &self,
        image: &str,
        keyring: &Result<DockerKeyring, String>,
    ) -> Result<Result<String, PullFailure>, NotModelled> {
        let keyring = match keyring {
            Ok(k) => k,
            Err(e) => return Ok(Err(PullFailure { message: e.clone() })),
        };
        let (spec, attempts) = cri_attempts(image, keyring)?;
        let mut errors = Vec::new();
        for auth in attempts {
            match self.runtime.pull_image(&spec, auth.as_ref()).await? {
                Ok(id) => return Ok(Ok(id)),
                Err(status) => {
                    let shown = kubelet::err_image_pull(&self.version, &status.code.name(), &status.message)
                        .ok_or_else(|| NotModelled::new(format!("Kubernetes {} is not tabulated", self.version)))?;
                    errors.push(shown);
                }
            }
        }
        Ok(Err(PullFailure {
            message: aggregate(&errors),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise_as_add_does() {
        assert_eq!(normalised_key("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalised_key("reg.io/v2/foo"), "reg.io/foo");
        assert_eq!(normalised_key("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(normalised_key("http://reg.io/"), "reg.io");
    }

    #[test]
    fn matching_needs_port_parts_and_path_prefix() {
        assert!(urls_match("reg.io", "reg.io/g/app"));
        assert!(urls_match("*.ex.com", "a.ex.com/x"));
        assert!(!urls_match("*.ex.com", "a.b.ex.com/x"));
        assert!(!urls_match("reg.io:5000", "reg.io/g/app"));
        assert!(urls_match("reg.io/foo", "reg.io/foobar"));
        assert!(!urls_match("index.docker.io", "docker.io/library/alpine"));
    }

    #[test]
    fn lookup_walks_keys_in_reverse_order() {
        let secret = vec![
            (
                "reg.io".to_string(),
                serde_json::json!({"username": "a", "password": "1"}),
            ),
            ("reg.io/g".to_string(), serde_json::json!({"auth": "Yjoy"})),
        ];
        let k = DockerKeyring::from_secrets(&[secret]).unwrap().unwrap();
        let got: Vec<String> = k.lookup("reg.io/g/app").into_iter().map(|c| c.username).collect();
        assert_eq!(got, ["b", "a"]);
        assert!(k.lookup("other.io/g/app").is_empty());
    }

    #[test]
    fn aggregates_as_apimachinery() {
        assert_eq!(aggregate(&["x".into()]), "x");
        assert_eq!(aggregate(&["x".into(), "x".into()]), "x");
        assert_eq!(aggregate(&["x".into(), "y".into()]), "[x, y]");
    }
}
