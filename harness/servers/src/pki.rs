//! A stage's certificates: two authorities made for the run — one standing for the public CAs
//! every system store trusts, one for the instance's own CA — each server's certificate in the
//! shape its scenario gives it, and the daemon trust the scenario's `docker:` settings describe,
//! as the certificates themselves.

use crate::tls::{Ca, Leaf, ServerCertificate, ServerTls, TlsError};
use regsim_model::world::{Authority, Certificate, World};
use regsim_wire::tls::DaemonTrust;
use time::OffsetDateTime;

/// The run's two authorities.
pub struct Pki {
    /// Stands for the public CAs of a system store (Let's Encrypt and the like).
    pub public: Ca,
    /// The instance's own CA.
    pub private: Ca,
}

impl Pki {
    /// Both authorities, their certificates valid around `now`.
    pub fn at(now: OffsetDateTime) -> Result<Pki, TlsError> {
        Ok(Pki {
            public: Ca::at("regsim Public Root CA", now)?,
            private: Ca::at("regsim Instance CA", now)?,
        })
    }

    /// The certificate a server named `host` serves, or `None` for plain HTTP.
    pub fn issue(&self, certificate: &Certificate, host: &str) -> Result<Option<ServerCertificate>, TlsError> {
        let names = [host];
        let issued = match certificate {
            Certificate::PlainHttp => return Ok(None),
            Certificate::PublicCa => self.public.leaf(&names, &Leaf::Issued)?,
            Certificate::PrivateCa => self.private.leaf(&names, &Leaf::Issued)?,
            Certificate::SelfSigned => self.public.leaf(&names, &Leaf::SelfSigned)?,
            Certificate::Expired => self.public.leaf(&names, &Leaf::Expired)?,
            Certificate::MissingIntermediate => self.public.leaf(&names, &Leaf::MissingIntermediate)?,
            Certificate::ForOtherNames(others) => self.public.leaf(&names, &Leaf::ForOtherNames(others.clone()))?,
        };
        Ok(Some(issued))
    }

    /// What a user puts into `certs.d/<dir>/ca.crt` for a server with `certificate`: the CA that
    /// issued it, or the certificate itself when self-signed.
    fn vouching_for(&self, certificate: &Certificate, issued: Option<&ServerCertificate>) -> Vec<u8> {
        match (certificate, issued) {
            (Certificate::PrivateCa, _) => self.private.der().to_vec(),
            (Certificate::SelfSigned, Some(leaf)) => leaf.chain()[0].to_vec(),
            _ => self.public.der().to_vec(),
        }
    }
}

/// The servers of a world that have a name and a certificate: GitLab's host, its registry, the
/// other registries, in that order.
pub fn servers(world: &World) -> Vec<(&Authority, &Certificate)> {
    let mut all = vec![
        (&world.gitlab.host, &world.gitlab.certificate),
        (&world.gitlab.registry, &world.gitlab.registry_certificate),
    ];
    all.extend(world.registries.iter().map(|r| (&r.host, &r.certificate)));
    all
}

/// The runner host daemon's trust for `world`, given the certificate each server got (`issued`,
/// in the order of [`servers`]).
pub fn daemon_trust(pki: &Pki, world: &World, issued: &[Option<ServerCertificate>]) -> DaemonTrust {
    let tls = &world.docker.tls;
    let mut system_roots = vec![pki.public.der().to_vec()];
    if tls.ca_in_system_store {
        system_roots.push(pki.private.der().to_vec());
    }
    let servers = servers(world);
    let certs_d = tls
        .certs_d
        .iter()
        .map(|dir| {
            let host = dir.rsplit_once(':').map_or(dir.as_str(), |(h, _)| h);
            // The server the directory is meant for: named exactly, else by its host alone (the
            // directory written without the registry's port).
            let found = servers
                .iter()
                .position(|(a, _)| a.to_string().eq_ignore_ascii_case(dir))
                .or_else(|| servers.iter().position(|(a, _)| a.host.eq_ignore_ascii_case(host)));
            let ca = match found {
                Some(i) => pki.vouching_for(servers[i].1, issued.get(i).and_then(Option::as_ref)),
                None => pki.public.der().to_vec(),
            };
            (dir.clone(), ca)
        })
        .collect();
    DaemonTrust {
        system_roots,
        certs_d,
        insecure_registries: tls.insecure_registries.clone(),
        now: world.clock.unix_timestamp(),
    }
}

/// A server's TLS from its certificate.
pub fn server_tls(issued: &ServerCertificate) -> Result<ServerTls, TlsError> {
    issued.server_tls()
}
