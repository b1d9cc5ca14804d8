//! The real dockerd (Debian's docker.io 20.10.24) against regsim's own registry mock over HTTPS,
//! by the registries' real host names, in a network and mount namespace of the test's own
//! (`regsim_servers::netns`): what it says for each certificate users meet, byte for byte, and
//! that trust given the way users give it (`/etc/docker/certs.d/HOST[:PORT]/ca.crt`,
//! `insecure-registries` in `/etc/docker/daemon.json`) gets the pull past TLS. These lines are the
//! Docker 20.10 rows of the engine's TLS texts (docs/research/clients-tls.md).
//!
//! Needs root, util-linux (`unshare`, `nsenter`), iproute2 and dockerd; without them the test says
//! so on stderr and passes, under CI (`CI` set) it fails. The Docker CLI 28.2.2 at
//! `/usr/local/bin/docker`, when present, is also asked for its `docker login` texts.

use regsim_model::world::{Authority, OtherRegistry, RegistryAuth, StoredImage};
use regsim_servers::journal::Journal;
use regsim_servers::listen::{Limits, Listener};
use regsim_servers::netns::{self, Dockerd, Namespace, Output};
use regsim_servers::registry::{RegistryConfig, RegistryServer};
use regsim_servers::tls::{Ca, EXPIRED_NOT_AFTER, Leaf};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn say(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

const USER: &str = "ci";
const PASSWORD: &str = "Ci-Pa55word";
/// The Docker CLI that came with Debian's docker.io (the daemon's own version).
const CLI_20_10: &str = "/usr/bin/docker";
/// An upstream static Docker CLI, a client only.
const CLI_28_2: &str = "/usr/local/bin/docker";
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// One registry of the test: its name as users write it, its address in the namespace, and how
/// it serves.
struct Site {
    authority: &'static str,
    ip: Ipv4Addr,
    port: u16,
    /// `None`: plain HTTP.
    leaf: Option<Leaf>,
}

fn sites() -> Vec<Site> {
    let site = |authority, last: u8, port, leaf| Site {
        authority,
        ip: Ipv4Addr::new(192, 0, 2, last),
        port,
        leaf,
    };
    vec![
        site("registry.example.test", 10, 443, Some(Leaf::Issued)),
        site("your.gitlab.address.com:5000", 11, 5000, Some(Leaf::Issued)),
        site("expired.example.test", 12, 443, Some(Leaf::Expired)),
        site(
            "wrong-name.example.test",
            13,
            443,
            Some(Leaf::ForOtherNames(vec!["other.example.test".into()])),
        ),
        site("self-signed.example.test", 14, 443, Some(Leaf::SelfSigned)),
        site("no-intermediate.example.test", 15, 443, Some(Leaf::MissingIntermediate)),
        site("chain.example.test", 16, 443, Some(Leaf::ViaIntermediate)),
        site("plain.example.test:5000", 17, 5000, None),
    ]
}

impl Site {
    fn host(&self) -> &'static str {
        self.authority.split(':').next().unwrap_or(self.authority)
    }
    fn image(&self) -> String {
        format!("{}/x/app:1", self.authority)
    }
}

/// regsim's registry mock for `site`: htpasswd Basic auth, one image `x/app:1`.
fn registry(site: &Site) -> Arc<RegistryServer> {
    let config = RegistryConfig::other(&OtherRegistry {
        host: Authority::parse(site.authority).expect("host[:port]"),
        certificate: regsim_model::world::Certificate::PublicCa,
        auth: RegistryAuth::Basic {
            realm: "Registry Realm".into(),
            users: [(USER.to_string(), PASSWORD.to_string())].into(),
        },
        images: vec![StoredImage {
            repository: "x/app".into(),
            tag: "1".into(),
            layers: 1,
            platforms: vec![],
        }],
    });
    Arc::new(RegistryServer::new(config, Default::default()))
}

/// The namespace, or `None` after saying why; under CI a missing piece fails.
fn namespace_or_skip(hosts: &[(Ipv4Addr, &str)]) -> Option<Namespace> {
    match Namespace::create(hosts, Duration::from_secs(600)) {
        Ok(ns) => Some(ns),
        Err(e @ netns::NetnsError::Unavailable(_)) if !in_ci() => {
            say(&format!("SKIPPED real-daemon TLS texts: {e}"));
            None
        }
        Err(e) => panic!("CI must run the real-daemon TLS texts, but: {e}"),
    }
}

/// What one CLI command printed, as a test line: stdout and stderr, and the exit code.
fn run(d: &Dockerd<'_>, cli: &str, config: &Path, args: &[&str]) -> Output {
    d.docker(Path::new(cli), config, args, COMMAND_LIMIT)
        .unwrap_or_else(|e| panic!("{e}\ndockerd's log:\n{}", d.log_tail(30)))
}

/// stderr of a command that must fail, checked to be the one line `expected`.
fn fails_with(out: &Output, expected: &str, what: &str) {
    assert_eq!(out.code, Some(1), "{what}: {out:?}");
    assert_eq!(out.stderr, format!("{expected}\n"), "{what}: {out:?}");
}

/// The expired certificate's line: Go prints the machine's current time, so that part is checked
/// to be an RFC 3339 UTC time and the rest byte for byte.
fn fails_with_expired(out: &Output, prefix: &str, what: &str) {
    assert_eq!(out.code, Some(1), "{what}: {out:?}");
    let after = EXPIRED_NOT_AFTER
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let line = out.stderr.strip_suffix('\n').unwrap_or(&out.stderr);
    let now = line
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(&format!(" is after {after}")))
        .unwrap_or_else(|| panic!("{what}: {out:?}"));
    let parsed = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339);
    assert!(parsed.is_ok() && now.ends_with('Z'), "{what}: {now:?} in {out:?}");
}

#[test]
fn real_dockerd_names_each_certificate_problem_by_the_registrys_own_host_name() {
    let sites = sites();
    let hosts: Vec<(Ipv4Addr, &str)> = sites.iter().map(|s| (s.ip, s.host())).collect();
    let Some(ns) = namespace_or_skip(&hosts) else {
        return;
    };
    let ca = Ca::new("regsim run CA").expect("CA");
    let journal = Journal::with_capacity(1000);
    let mut servers = Vec::new();
    for s in &sites {
        let bound = ns
            .bind(SocketAddr::from((s.ip, s.port)))
            .unwrap_or_else(|e| panic!("{e}"));
        let server = match &s.leaf {
            Some(leaf) => {
                let cert = ca.leaf(&[s.host()], leaf).expect("certificate");
                let tls = cert.server_tls().expect("server TLS");
                Listener::start_tls(bound, registry(s), journal.clone(), Limits::default(), tls)
            }
            None => Listener::start(bound, registry(s), journal.clone(), Limits::default()),
        };
        servers.push(server.expect("listener"));
    }
    let config_dir = |name: &str| -> PathBuf {
        let d = ns.dir().join(name);
        std::fs::create_dir_all(&d).expect("config dir");
        d
    };

    // ---- dockerd with no daemon.json settings: every registry is secure --------------------
    let d = match ns.start_dockerd("{}") {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let version = run(
        &d,
        CLI_20_10,
        &config_dir("v"),
        &["version", "--format", "{{.Server.Version}}"],
    );
    assert!(version.stdout.starts_with("20.10."), "{version:?}");
    let cfg = config_dir("cli-20.10");
    let login = |d: &Dockerd<'_>, cli: &str, cfg: &Path, site: &str| {
        run(d, cli, cfg, &["login", site, "-u", USER, "-p", PASSWORD])
    };
    let pull = |d: &Dockerd<'_>, cfg: &Path, image: &str| run(d, CLI_20_10, cfg, &["pull", "-q", image]);
    let password_warning = "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";

    // The run's CA not trusted: Go's x509 text, by the registry's own name.
    let reg = &sites[0];
    let unknown =
        |url: &str| format!("Error response from daemon: Get \"{url}\": x509: certificate signed by unknown authority");
    fails_with(
        &pull(&d, &cfg, &reg.image()),
        &unknown("https://registry.example.test/v2/"),
        "pull, CA not trusted",
    );
    let out = login(&d, CLI_20_10, &cfg, reg.authority);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!("{password_warning}{}\n", unknown("https://registry.example.test/v2/")),
        "login, CA not trusted"
    );

    // Trusted as users trust it: certs.d/HOST/ca.crt. The pull gets past TLS to the registry's
    // answer (anonymous: Basic auth wanted), and after a login it succeeds.
    ns.trust(reg.authority, ca.pem()).expect("certs.d");
    fails_with(
        &pull(&d, &cfg, &reg.image()),
        "Error response from daemon: Head \"https://registry.example.test/v2/x/app/manifests/1\": no basic auth credentials",
        "pull, CA trusted, no login",
    );
    let out = login(&d, CLI_20_10, &cfg, reg.authority);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "Login Succeeded\n", "{out:?}");
    let out = pull(&d, &cfg, &reg.image());
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "registry.example.test/x/app:1\n"),
        "{out:?}"
    );

    // A port other than 443: certs.d's directory must carry it.
    let port = &sites[1];
    ns.trust("your.gitlab.address.com", ca.pem()).expect("certs.d");
    fails_with(
        &pull(&d, &cfg, &port.image()),
        &unknown("https://your.gitlab.address.com:5000/v2/"),
        "pull, CA in certs.d/HOST without the port",
    );
    ns.trust(port.authority, ca.pem()).expect("certs.d");
    fails_with(
        &pull(&d, &cfg, &port.image()),
        "Error response from daemon: Head \"https://your.gitlab.address.com:5000/v2/x/app/manifests/1\": no basic auth credentials",
        "pull, CA in certs.d/HOST:PORT",
    );

    // The CA trusted, the certificate wrong in itself.
    for s in &sites[2..7] {
        ns.trust(s.authority, ca.pem()).expect("certs.d");
    }
    fails_with_expired(
        &pull(&d, &cfg, &sites[2].image()),
        "Error response from daemon: Get \"https://expired.example.test/v2/\": x509: certificate has expired or is not yet valid: current time ",
        "pull, expired",
    );
    fails_with(
        &pull(&d, &cfg, &sites[3].image()),
        "Error response from daemon: Get \"https://wrong-name.example.test/v2/\": x509: certificate is valid for other.example.test, not wrong-name.example.test",
        "pull, certificate for another name",
    );
    fails_with(
        &pull(&d, &cfg, &sites[4].image()),
        &unknown("https://self-signed.example.test/v2/"),
        "pull, self-signed",
    );
    fails_with(
        &pull(&d, &cfg, &sites[5].image()),
        &unknown("https://no-intermediate.example.test/v2/"),
        "pull, intermediate not sent",
    );
    fails_with(
        &pull(&d, &cfg, &sites[6].image()),
        "Error response from daemon: Head \"https://chain.example.test/v2/x/app/manifests/1\": no basic auth credentials",
        "pull, intermediate sent",
    );

    // A plain-HTTP registry that dockerd takes for a secure one.
    let plain = &sites[7];
    fails_with(
        &pull(&d, &cfg, &plain.image()),
        "Error response from daemon: Get \"https://plain.example.test:5000/v2/\": http: server gave HTTP response to HTTPS client",
        "pull, plain HTTP, not in insecure-registries",
    );

    // The Docker CLI 28.2.2, a client only, against the same daemon: its login texts.
    if Path::new(CLI_28_2).is_file() {
        let cfg28 = config_dir("cli-28.2");
        ns.distrust(reg.authority).expect("certs.d");
        let out = login(&d, CLI_28_2, &cfg28, reg.authority);
        assert_eq!(out.code, Some(1), "{out:?}");
        assert_eq!(
            out.stderr,
            format!("{password_warning}{}\n", unknown("https://registry.example.test/v2/")),
            "28.2 login, CA not trusted"
        );
        let out = login(&d, CLI_28_2, &cfg28, sites[3].authority);
        assert_eq!(
            out.stderr,
            format!(
                "{password_warning}Error response from daemon: Get \"https://wrong-name.example.test/v2/\": x509: certificate is valid for other.example.test, not wrong-name.example.test\n"
            ),
            "28.2 login, another name"
        );
        let out = login(&d, CLI_28_2, &cfg28, plain.authority);
        assert_eq!(
            out.stderr,
            format!(
                "{password_warning}Error response from daemon: Get \"https://plain.example.test:5000/v2/\": http: server gave HTTP response to HTTPS client\n"
            ),
            "28.2 login, plain HTTP"
        );
    } else {
        say(&format!("SKIPPED the Docker CLI 28.2 login texts: no {CLI_28_2}"));
    }
    drop(d);

    // ---- insecure-registries in /etc/docker/daemon.json: plain HTTP works ------------------
    let d = ns
        .start_dockerd(r#"{"insecure-registries": ["plain.example.test:5000"]}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let cfg = config_dir("cli-20.10-insecure");
    let out = login(&d, CLI_20_10, &cfg, plain.authority);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "Login Succeeded\n"),
        "{out:?}"
    );
    let out = pull(&d, &cfg, &plain.image());
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "plain.example.test:5000/x/app:1\n"),
        "{out:?}"
    );
    drop(d);
    drop(servers);
}
