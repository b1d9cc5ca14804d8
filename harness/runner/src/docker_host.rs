//! Where the job's Docker CLI sends its Engine API calls. `DOCKER_HOST` unset: the runner host's
//! daemon through the mounted socket (how regsim's job images reach Docker). `tcp://NAME:PORT`:
//! the build container resolves NAME from its links to the services (`services::link_names`);
//! a `docker:…-dind` service is a Docker engine of that tag, listening where its entrypoint
//! puts it (`versions::dind`: 2375 without TLS, 2376 with). Any other name goes to the job
//! container's DNS server (the runner's `[runners.docker] dns`), which knows no service names:
//! `no such host`.

use crate::services::StartedService;
use regsim_model::versions::docker_cli::ConnectFailure;
use regsim_wire::NotModelled;
use semver::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAt {
    HostSocket,
    /// A dind service's engine.
    Dind {
        version: Version,
        service: String,
    },
    /// Nothing answers: the CLI's connect error.
    Unreachable {
        /// `docker:2376`, the URL's authority.
        authority: String,
        failure: ConnectFailure,
    },
}

/// `DOCKER_HOST` and the job's services → the daemon the CLI talks to. `Err`: a combination
/// regsim does not model.
pub fn resolve(
    docker_host: Option<&str>,
    tls_certdir: Option<&str>,
    services: &[StartedService],
    dns: &[String],
) -> Result<DaemonAt, NotModelled> {
    let Some(dh) = docker_host.filter(|d| !d.is_empty()) else {
        return Ok(DaemonAt::HostSocket);
    };
    let authority = dh
        .strip_prefix("tcp://")
        .ok_or_else(|| NotModelled::new(format!("DOCKER_HOST `{dh}`: only tcp://NAME:PORT is simulated")))?
        .trim_end_matches('/');
    let (name, port) = authority
        .rsplit_once(':')
        .filter(|(n, p)| !n.is_empty() && p.parse::<u16>().is_ok())
        .ok_or_else(|| NotModelled::new(format!("DOCKER_HOST `{dh}`: expected tcp://NAME:PORT")))?;
    let Some(service) = services.iter().find(|s| s.links.iter().any(|l| l == name)) else {
        // Go's resolver reports the server it asked: the first nameserver, port 53.
        let Some(server) = dns.first() else {
            return Err(NotModelled::new(format!(
                "`{name}` is not a service link, so the job container asks its DNS server, which regsim only knows \
                 from the runner's `dns` setting (scenario `runner.dns`)"
            )));
        };
        return Ok(DaemonAt::Unreachable {
            authority: authority.to_string(),
            failure: ConnectFailure::NoSuchHost {
                name: name.to_string(),
                resolver: format!("{server}:53"),
            },
        });
    };
    let Some(tag) = service.version.strip_suffix("-dind") else {
        return Err(NotModelled::new(format!(
            "`{name}` links to {}, which regsim does not know as a Docker daemon (only docker:…-dind services are)",
            service.image_name
        )));
    };
    let version = regsim_model::versions::parse_version(tag)
        .map_err(|e| NotModelled::new(format!("dind service {}: {e}", service.image_name)))?;
    // The entrypoint listens on one TCP port: 2375 without TLS, 2376 with it.
    use regsim_model::versions::dind::{DindListens, listens};
    match (port, listens(&version, tls_certdir)) {
        ("2375", DindListens::Plain2375) => Ok(DaemonAt::Dind {
            version,
            service: service.image_name.clone(),
        }),
        ("2376", DindListens::Tls2376) => Err(NotModelled::new(format!(
            "DOCKER_HOST {dh}: the CLI's TLS to {} (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and the runner's `/certs/client` volume) \
             is not modelled",
            service.image_name
        ))),
        // Nothing listens on that port of the service's container: the connection is refused.
        _ => Ok(DaemonAt::Unreachable {
            authority: authority.to_string(),
            failure: ConnectFailure::Refused {
                docker_host: dh.trim_end_matches('/').to_string(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dind(links: &[&str]) -> Vec<StartedService> {
        vec![StartedService {
            image_name: "gitlab.example.com:443/g/dependency_proxy/containers/docker:20.10.16-dind".into(),
            version: "20.10.16-dind".into(),
            links: links.iter().map(|s| s.to_string()).collect(),
        }]
    }

    #[test]
    fn docker_host_goes_to_a_linked_dind_or_to_dns() {
        let dns = vec!["192.168.0.1".to_string()];
        assert_eq!(resolve(None, None, &[], &dns), Ok(DaemonAt::HostSocket));
        assert_eq!(
            resolve(Some("tcp://docker:2376"), None, &dind(&["a__docker", "a-docker"]), &dns),
            Ok(DaemonAt::Unreachable {
                authority: "docker:2376".into(),
                failure: ConnectFailure::NoSuchHost {
                    name: "docker".into(),
                    resolver: "192.168.0.1:53".into()
                }
            })
        );
        assert!(matches!(
            resolve(
                Some("tcp://docker:2375"),
                Some(""),
                &dind(&["a__docker", "docker"]),
                &dns
            ),
            Ok(DaemonAt::Dind { .. })
        ));
        assert!(resolve(Some("tcp://docker:2376"), None, &dind(&["docker"]), &dns).is_err());
        // A 20.10 dind listens on 2376 with TLS unless the job empties DOCKER_TLS_CERTDIR.
        assert_eq!(
            resolve(Some("tcp://docker:2375"), None, &dind(&["docker"]), &dns),
            Ok(DaemonAt::Unreachable {
                authority: "docker:2375".into(),
                failure: ConnectFailure::Refused {
                    docker_host: "tcp://docker:2375".into()
                }
            })
        );
        assert!(resolve(Some("tcp://docker:2376"), None, &[], &[]).is_err());
        assert!(resolve(Some("unix:///x"), None, &[], &dns).is_err());
    }
}
