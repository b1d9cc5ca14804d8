//! The `docker:…-dind` image's entrypoint (docker-library/docker `dockerd-entrypoint.sh`): which
//! port the service's daemon listens on, from the `DOCKER_TLS_CERTDIR` it sees (the job's
//! variables reach service containers) or the image's default.

use crate::versions::{Era, era, lookup, v};
use semver::Version;

/// Where the dind daemon listens besides its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DindListens {
    /// `--host=tcp://0.0.0.0:2375`, no TLS (DOCKER_TLS_CERTDIR empty or unset).
    Plain2375,
    /// `--host=tcp://0.0.0.0:2376 --tlsverify` with certificates generated under the directory.
    Tls2376,
}

/// The image's own `DOCKER_TLS_CERTDIR` default, per image release.
#[rustfmt::skip]
pub fn default_certdir() -> Vec<Era<Option<&'static str>>> {
    vec![
        era(v(1, 13, 0), None,
            "[SRC] docker-library/docker commit 6438624 (2019-07-16) \"Add automatic TLS generation (and enable it by default in 19.03+)\": \
             18.09 images set no DOCKER_TLS_CERTDIR"),
        era(v(19, 3, 0), Some("/certs"),
            "[SRC] the same commit: \"The default value in 19.03+ is `/certs`\"; Dockerfile-dind.template ENV DOCKER_TLS_CERTDIR=/certs at 3289af8 (29.7.2)"),
    ]
}

/// What the entrypoint starts: TLS on 2376 when the directory is non-empty, else plain 2375
/// [SRC docker-library/docker dockerd-entrypoint.sh:121-139 at 3289af8; the same branches since
/// 6438624]. `job_certdir`: the job's DOCKER_TLS_CERTDIR, if it sets one.
pub fn listens(image_version: &Version, job_certdir: Option<&str>) -> DindListens {
    let default = lookup(&default_certdir(), image_version).and_then(|e| e.value);
    match job_certdir.or(default) {
        Some(d) if !d.is_empty() => DindListens::Tls2376,
        _ => DindListens::Plain2375,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_by_default_from_19_03() {
        assert_eq!(listens(&v(18, 9, 7), None), DindListens::Plain2375);
        assert_eq!(listens(&v(20, 10, 16), None), DindListens::Tls2376);
        assert_eq!(listens(&v(20, 10, 16), Some("")), DindListens::Plain2375);
        assert_eq!(listens(&v(18, 9, 7), Some("/certs")), DindListens::Tls2376);
    }
}
