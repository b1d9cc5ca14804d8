//! Where the job's Docker CLI sends its Engine API calls. `DOCKER_HOST` unset: the runner host's
//! daemon through the mounted socket (how regsim's job images reach Docker). `tcp://NAME:PORT`:
//! the build container resolves NAME from its links to the services (`services::link_names`);
//! a `docker:…-dind` service is a Docker engine of that tag, listening where its entrypoint
//! puts it (`versions::dind`: 2375 without TLS, 2376 with). Any other name goes to the job
//! container's DNS server (the runner's `[runners.docker] dns`), which knows no service names:
//! `no such host`.

use crate::services::StartedService;
use regsim_model::versions::docker_cli::{ConnectFailure, TlsLegFailure};
use regsim_wire::NotModelled;
use semver::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAt {
    HostSocket,
    /// A dind service's engine.
    Dind {
        version: Version,
        service: String,
        /// Reached over TLS on 2376 (with the service's client certificates), else plain on 2375.
        tls: bool,
    },
    /// A dind service listening with TLS whose leg from the CLI does not come up.
    DindTlsLegFails {
        service: String,
        failure: TlsLegFailure,
    },
    /// Nothing answers: the CLI's connect error.
    Unreachable {
        /// `docker:2376`, the URL's authority.
        authority: String,
        failure: ConnectFailure,
    },
}

/// The job's TLS settings for the CLI's leg to a dind service.
#[derive(Debug, Clone, Default)]
pub struct CliTls {
    /// `DOCKER_TLS_VERIFY` is set (non-empty): the CLI speaks TLS and checks the daemon.
    pub verify: bool,
    /// `DOCKER_CERT_PATH` (default `~/.docker`, `/root/.docker` in a job image).
    pub cert_path: Option<String>,
    /// The runner's `[runners.docker] volumes`: the only way the dind service's generated
    /// client certificates reach the job's container.
    pub volumes: Vec<String>,
}

impl CliTls {
    /// Whether `dir` is (under) a volume the job container shares with its services.
    fn shared(&self, dir: &str) -> bool {
        self.volumes.iter().any(|v| {
            // `/certs/client`, or `host:container[:mode]` binds.
            let parts: Vec<&str> = v.split(':').collect();
            let container = if parts.len() >= 2 { parts[1] } else { parts[0] };
            let container = container.trim_end_matches('/');
            !container.is_empty() && (dir == container || dir.starts_with(&format!("{container}/")))
        })
    }
}

/// `DOCKER_HOST` and the job's services → the daemon the CLI talks to. `Err`: a combination
/// regsim does not model.
pub fn resolve(
    docker_host: Option<&str>,
    tls_certdir: Option<&str>,
    tls: &CliTls,
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
                 from the scenario (`runner.dns`, or `kubernetes.dns` for a build pod's cluster DNS)"
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
            tls: false,
        }),
        ("2376", DindListens::Tls2376) => tls_leg(name, &version, tls_certdir, tls, service),
        ("2375", DindListens::Tls2376) if tls.verify => Err(NotModelled::new(format!(
            "DOCKER_HOST {dh} with DOCKER_TLS_VERIFY: a TLS handshake with a port where nothing listens is not modelled"
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

/// The CLI's leg to a dind service listening on 2376 with TLS. The service's entrypoint
/// generates a CA, a server certificate and client certificates under its DOCKER_TLS_CERTDIR
/// (`client/{ca,cert,key}.pem`); the server certificate names `docker`, `localhost`, the
/// container's hostname and addresses (docker-library/docker dockerd-entrypoint.sh `_tls_san`,
/// read at 3289af8). The job's CLI has them only through a runner volume on that directory.
fn tls_leg(
    name: &str,
    version: &Version,
    tls_certdir: Option<&str>,
    tls: &CliTls,
    service: &StartedService,
) -> Result<DaemonAt, NotModelled> {
    if !tls.verify {
        return Ok(DaemonAt::DindTlsLegFails {
            service: service.image_name.clone(),
            failure: TlsLegFailure::PlainHttpToTls,
        });
    }
    let cert_dir = tls
        .cert_path
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/root/.docker".into());
    let cert_dir = cert_dir.trim_end_matches('/').to_string();
    // The service sees the job's DOCKER_TLS_CERTDIR, else its image's default.
    let certdir = tls_certdir.map(str::to_string).unwrap_or_else(|| "/certs".into());
    let client_dir = format!("{}/client", certdir.trim_end_matches('/'));
    if cert_dir != client_dir || !tls.shared(&client_dir) {
        return Ok(DaemonAt::DindTlsLegFails {
            service: service.image_name.clone(),
            failure: TlsLegFailure::MissingCa {
                ca_path: format!("{cert_dir}/ca.pem"),
            },
        });
    }
    if name != "docker" && name != "localhost" {
        return Err(NotModelled::new(format!(
            "the dind server certificate does not name `{name}` (only docker, localhost and the container's own \
             hostname and addresses): the x509 error lists those, which regsim does not know"
        )));
    }
    Ok(DaemonAt::Dind {
        version: version.clone(),
        service: service.image_name.clone(),
        tls: true,
    })
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
        assert_eq!(
            resolve(None, None, &CliTls::default(), &[], &dns),
            Ok(DaemonAt::HostSocket)
        );
        assert_eq!(
            resolve(
                Some("tcp://docker:2376"),
                None,
                &CliTls::default(),
                &dind(&["a__docker", "a-docker"]),
                &dns
            ),
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
                &CliTls::default(),
                &dind(&["a__docker", "docker"]),
                &dns
            ),
            Ok(DaemonAt::Dind { .. })
        ));
        // 2376 with TLS: plain HTTP without DOCKER_TLS_VERIFY; the CA only through the volume.
        assert!(matches!(
            resolve(
                Some("tcp://docker:2376"),
                None,
                &CliTls::default(),
                &dind(&["docker"]),
                &dns
            ),
            Ok(DaemonAt::DindTlsLegFails {
                failure: TlsLegFailure::PlainHttpToTls,
                ..
            })
        ));
        let mut tls = CliTls {
            verify: true,
            cert_path: Some("/certs/client".into()),
            volumes: vec![],
        };
        assert!(matches!(
            resolve(Some("tcp://docker:2376"), Some("/certs"), &tls, &dind(&["docker"]), &dns),
            Ok(DaemonAt::DindTlsLegFails {
                failure: TlsLegFailure::MissingCa { ref ca_path },
                ..
            }) if ca_path == "/certs/client/ca.pem"
        ));
        tls.volumes = vec!["/certs/client".into(), "/cache".into()];
        assert!(matches!(
            resolve(
                Some("tcp://docker:2376"),
                Some("/certs"),
                &tls,
                &dind(&["docker"]),
                &dns
            ),
            Ok(DaemonAt::Dind { .. })
        ));
        assert!(resolve(Some("tcp://dind:2376"), Some("/certs"), &tls, &dind(&["dind"]), &dns).is_err());
        // A 20.10 dind listens on 2376 with TLS unless the job empties DOCKER_TLS_CERTDIR.
        assert_eq!(
            resolve(
                Some("tcp://docker:2375"),
                None,
                &CliTls::default(),
                &dind(&["docker"]),
                &dns
            ),
            Ok(DaemonAt::Unreachable {
                authority: "docker:2375".into(),
                failure: ConnectFailure::Refused {
                    docker_host: "tcp://docker:2375".into()
                }
            })
        );
        assert!(resolve(Some("tcp://docker:2376"), None, &CliTls::default(), &[], &[]).is_err());
        assert!(resolve(Some("unix:///x"), None, &CliTls::default(), &[], &dns).is_err());
    }
}
