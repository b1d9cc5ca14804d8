//! The same world, moved onto loopback addresses so that a real Docker daemon can pull from the
//! mocks: GitLab and its registry get the listeners' `127.0.0.1:PORT`, and every place the
//! scenario wrote the registry's name (the job's `image:`, `auths` keys, Dockerfile `FROM`s, sbt's
//! DockerPlugin settings) follows, keeping
//! whatever did or did not match before.

use super::{Authority, World};
use std::net::SocketAddr;

impl World {
    /// `gitlab` and `registry` are the GitLab and GitLab-registry listeners; `others` those of
    /// `self.registries`, in order.
    pub fn on_loopback(&self, gitlab: SocketAddr, registry: SocketAddr, others: &[SocketAddr]) -> World {
        let at = |a: SocketAddr| Authority {
            host: a.ip().to_string(),
            port: Some(a.port()),
        };
        let others: Vec<Authority> = others.iter().map(|a| at(*a)).collect();
        self.relocated(at(gitlab), at(registry), &others, false)
    }

    /// The same names on other ports (`regsim serve --tls`: each server on its listener's port,
    /// over TLS, for a Docker that resolves the names to the listening address). Ports in the
    /// order of `on_loopback`'s addresses.
    pub fn on_ports(&self, gitlab: u16, registry: u16, others: &[u16]) -> World {
        let named = |a: &Authority, port: u16| Authority {
            host: a.host.clone(),
            port: Some(port),
        };
        let others: Vec<Authority> = self
            .registries
            .iter()
            .zip(others)
            .map(|(r, p)| named(&r.host, *p))
            .collect();
        self.relocated(
            named(&self.gitlab.host, gitlab),
            named(&self.gitlab.registry, registry),
            &others,
            true,
        )
    }

    /// Moves GitLab, its registry and the other registries to these authorities, and every place
    /// the scenario names them with them; `keep_tls` keeps the servers' certificates (else they
    /// speak plain HTTP).
    fn relocated(&self, gitlab: Authority, registry: Authority, others: &[Authority], keep_tls: bool) -> World {
        let at = |a: Authority| a;
        let mut moves = vec![(self.gitlab.registry.clone(), registry.clone())];
        moves.extend(
            self.registries
                .iter()
                .zip(others)
                .map(|(r, a)| (r.host.clone(), a.clone())),
        );
        // GitLab's own host serves the Dependency Proxy, named with or without its port.
        let gl_port = self
            .gitlab
            .host
            .port_or(if self.gitlab.scheme == "https" { 443 } else { 80 });
        for port in [None, Some(gl_port)] {
            moves.push((
                Authority {
                    host: self.gitlab.host.host.clone(),
                    port,
                },
                at(gitlab.clone()),
            ));
        }
        let mut w = self.clone();
        if !keep_tls {
            // dockerd never checks a certificate on 127.0.0.0/8, so the mocks speak plain HTTP
            // there; TLS is compared by real names (conformance's `dockerd by name`).
            w.gitlab.certificate = super::Certificate::PlainHttp;
            w.gitlab.registry_certificate = super::Certificate::PlainHttp;
            for r in &mut w.registries {
                r.certificate = super::Certificate::PlainHttp;
            }
            w.gitlab.scheme = "http".into();
        }
        w.gitlab.host = gitlab;
        w.gitlab.registry = registry;
        for (r, a) in w.registries.iter_mut().zip(others) {
            r.host = a.clone();
        }
        for (old, new) in &moves {
            w.job.image = rewrite_image(&w.job.image, old, new);
            for (name, _) in &mut w.job.services {
                *name = rewrite_image(name, old, new);
            }
            for vars in std::iter::once(&mut w.job.variables).chain(w.projects.iter_mut().map(|p| &mut p.variables)) {
                if let Some(v) = vars.get_mut("DOCKER_AUTH_CONFIG") {
                    *v = rewrite_auth_config(v, old, new);
                }
            }
            if let Some(sbt) = &mut w.job.sbt_native_packager {
                sbt.alias = rewrite_image(&sbt.alias, old, new);
                sbt.base_image = rewrite_image(&sbt.base_image, old, new);
            }
            if let Some(d) = &mut w.job.dockerfile {
                *d = d
                    .lines()
                    .map(|l| match l.strip_prefix("FROM ") {
                        Some(image) => format!("FROM {}\n", rewrite_image(image.trim(), old, new)),
                        None => format!("{l}\n"),
                    })
                    .collect();
            }
            if let Some(c) = &mut w.runner.docker_config {
                *c = rewrite_auth_config(c, old, new);
            }
            for (k, v) in &mut w.runner.environment {
                if k == "DOCKER_AUTH_CONFIG" {
                    *v = rewrite_auth_config(v, old, new);
                }
            }
            // A kubernetes node's pull secrets name the registries as image names do.
            if let Some(c) = &mut w.cluster {
                for entries in c.secrets.values_mut() {
                    for (k, _) in entries.iter_mut() {
                        *k = rewrite_key(k, old, new);
                    }
                }
            }
            // The helpers answer for the servers as the configs now name them.
            for helper in w.runner.credential_helpers.values_mut() {
                if let super::CredentialHelper::Answers(servers) = helper {
                    *servers = std::mem::take(servers)
                        .into_iter()
                        .map(|(k, v)| (rewrite_key(&k, old, new), v))
                        .collect();
                }
            }
        }
        w
    }
}

pub fn rewrite_image(image: &str, old: &Authority, new: &Authority) -> String {
    match image.strip_prefix(&format!("{old}/")) {
        Some(rest) => format!("{new}/{rest}"),
        None => image.to_string(),
    }
}

/// Rewrites `auths` and `credHelpers` keys that name the registry; a config that does not parse
/// is left as it is (the runner ignores it either way).
pub fn rewrite_auth_config(text: &str, old: &Authority, new: &Authority) -> String {
    let Ok(mut json) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.to_string();
    };
    let mut changed = false;
    for section in ["auths", "credHelpers"] {
        if let Some(map) = json.get_mut(section).and_then(|a| a.as_object_mut()) {
            let entries: Vec<(String, serde_json::Value)> = std::mem::take(map).into_iter().collect();
            for (k, v) in entries {
                map.insert(rewrite_key(&k, old, new), v);
            }
            changed = true;
        }
    }
    if !changed {
        return text.to_string();
    }
    serde_json::to_string(&json).unwrap_or_else(|_| text.to_string())
}

fn rewrite_key(key: &str, old: &Authority, new: &Authority) -> String {
    let (scheme, rest) = match key.find("://") {
        Some(i) => (&key[..i + 3], &key[i + 3..]),
        None => ("", key),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let Ok(a) = Authority::parse(authority) else {
        return key.to_string();
    };
    if !a.host.eq_ignore_ascii_case(&old.host) {
        return key.to_string();
    }
    let moved = match (a.port, old.port) {
        (p, q) if p == q => new.to_string(),
        // Same host, another port (or none where the registry has one): still a mismatch.
        (Some(p), _) => format!("{}:{p}", new.host),
        (None, Some(_)) => new.host.clone(),
        (None, None) => unreachable!("handled by the equal case"),
    };
    format!("{scheme}{moved}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_match_or_mismatch() {
        let old = Authority::parse("reg.example.com:5000").unwrap();
        let new = Authority::parse("127.0.0.1:41000").unwrap();
        assert_eq!(rewrite_key("reg.example.com:5000", &old, &new), "127.0.0.1:41000");
        assert_eq!(rewrite_key("reg.example.com", &old, &new), "127.0.0.1");
        assert_eq!(
            rewrite_key("https://reg.example.com:5000/v1/", &old, &new),
            "https://127.0.0.1:41000/v1/"
        );
        assert_eq!(
            rewrite_key("other.example.com:5000", &old, &new),
            "other.example.com:5000"
        );
        let noport = Authority::parse("reg.example.com").unwrap();
        assert_eq!(rewrite_key("reg.example.com", &noport, &new), "127.0.0.1:41000");
        assert_eq!(rewrite_key("reg.example.com:443", &noport, &new), "127.0.0.1:443");
        assert_eq!(
            rewrite_image("reg.example.com:5000/a/b:1", &old, &new),
            "127.0.0.1:41000/a/b:1"
        );
    }
}
