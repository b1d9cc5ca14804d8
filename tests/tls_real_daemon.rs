//! The real dockerd (Debian's docker.io 20.10.24) against regsim's own registry mock over HTTPS,
//! by the registries' real host names, in a network and mount namespace of the test's own
//! (`regsim_servers::netns`): what it says for each certificate users meet, byte for byte, and
//! that trust given the way users give it (`/etc/docker/certs.d/HOST[:PORT]/ca.crt`,
//! `insecure-registries` in `/etc/docker/daemon.json`) gets the pull past TLS. These lines are the
//! Docker 20.10 rows of the engine's TLS texts (docs/research/clients-tls.md), and regsim's
//! simulated engine, given the same certificates on loopback and the same trust, must print each
//! of them byte for byte (the expired certificate's "current time" is each side's own clock).
//!
//! Needs root, util-linux (`unshare`, `nsenter`), iproute2 and dockerd; without them the test says
//! so on stderr and passes, under CI (`CI` set) it fails. The Docker CLI 28.2.2 at
//! `/usr/local/bin/docker`, when present, is also asked for its `docker login` texts.

use regsim_clients::engine::simulated::SimulatedEngine;
use regsim_model::versions::docker;
use regsim_model::world::{Authority, OtherRegistry, RegistryAuth, StoredImage};
use regsim_servers::journal::Journal;
use regsim_servers::listen::{Limits, Listener};
use regsim_servers::netns::{self, Dockerd, Namespace, Output};
use regsim_servers::registry::{RegistryConfig, RegistryServer};
use regsim_servers::tls::ServerTls;
use regsim_servers::tls::{Ca, EXPIRED_NOT_AFTER, Leaf};
use regsim_wire::engine_api::DaemonError;
use regsim_wire::net::Network;
use regsim_wire::platform::Platform;
use regsim_wire::tls::DaemonTrust;
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
    let config = RegistryConfig::distribution(&OtherRegistry {
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

/// regsim's simulated dockerd 20.10.24 beside the real one: the same registries on loopback,
/// with the same certificates, dialled by the same names.
struct Simulated {
    rt: tokio::runtime::Runtime,
    network: Network,
    /// Keeps the loopback servers up.
    _servers: Vec<Listener>,
}

impl Simulated {
    fn start(sites: &[Site], tls: &[Option<ServerTls>]) -> Simulated {
        let journal = Journal::with_capacity(1000);
        let mut network = Network::default();
        let mut servers = Vec::new();
        for (s, tls) in sites.iter().zip(tls) {
            let bound = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback");
            let server = match tls {
                Some(t) => Listener::start_tls(bound, registry(s), journal.clone(), Limits::default(), t.clone()),
                None => Listener::start(bound, registry(s), journal.clone(), Limits::default()),
            }
            .expect("listener");
            network.add(s.host(), s.port, "/", *server.address());
            servers.push(server);
        }
        Simulated {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
            network,
            _servers: servers,
        }
    }

    /// `docker pull IMAGE` without credentials, as the CLI would print its failure.
    fn pull(&self, image: &str, certs_d: &[(&str, &str)], insecure: &[&str]) -> String {
        let version = semver::Version::new(20, 10, 24);
        let profile = docker::profile(&version, docker::ImageStore::Graphdriver).expect("20.10 profile");
        let trust = DaemonTrust {
            // The test CA is in no system store.
            system_roots: Vec::new(),
            certs_d: certs_d
                .iter()
                .map(|(dir, pem)| (dir.to_string(), pem_to_der(pem)))
                .collect(),
            insecure_registries: insecure.iter().map(|s| s.to_string()).collect(),
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let engine = SimulatedEngine::new(profile, version, Platform::default(), self.network.clone(), trust);
        let (name, tag) = image.rsplit_once(':').expect("name:tag");
        match self.rt.block_on(engine.create_image(name, tag, "")) {
            Ok(()) => "pulled".into(),
            Err(DaemonError::Http { message, .. }) => format!("Error response from daemon: {message}"),
            Err(e) => format!("{e:?}"),
        }
    }
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).expect("PEM")
}

/// The expired certificate's line with "current time …" cut out, for comparing two clocks.
fn without_current_time(line: &str) -> String {
    match line.find("current time ") {
        Some(i) => {
            let rest = &line[i + "current time ".len()..];
            let end = rest.find(' ').unwrap_or(rest.len());
            format!("{}current time T{}", &line[..i], &rest[end..])
        }
        None => line.to_string(),
    }
}

/// The simulated engine's line equals the real daemon's (stderr's one line).
fn agree(simulated: &str, real: &Output, what: &str) {
    let real_line = real.stderr.trim_end_matches('\n');
    assert_eq!(
        without_current_time(simulated),
        without_current_time(real_line),
        "{what}: the simulated engine differs from dockerd 20.10.24"
    );
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
    let mut served_tls = Vec::new();
    for s in &sites {
        let bound = ns
            .bind(SocketAddr::from((s.ip, s.port)))
            .unwrap_or_else(|e| panic!("{e}"));
        let server = match &s.leaf {
            Some(leaf) => {
                let cert = ca.leaf(&[s.host()], leaf).expect("certificate");
                let tls = cert.server_tls().expect("server TLS");
                served_tls.push(Some(tls.clone()));
                Listener::start_tls(bound, registry(s), journal.clone(), Limits::default(), tls)
            }
            None => {
                served_tls.push(None);
                Listener::start(bound, registry(s), journal.clone(), Limits::default())
            }
        };
        servers.push(server.expect("listener"));
    }
    let sim = Simulated::start(&sites, &served_tls);
    let pem = ca.pem().to_string();
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
    let out = pull(&d, &cfg, &reg.image());
    fails_with(
        &out,
        &unknown("https://registry.example.test/v2/"),
        "pull, CA not trusted",
    );
    agree(&sim.pull(&reg.image(), &[], &[]), &out, "pull, CA not trusted");
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
    let out = pull(&d, &cfg, &reg.image());
    fails_with(
        &out,
        "Error response from daemon: Head \"https://registry.example.test/v2/x/app/manifests/1\": no basic auth credentials",
        "pull, CA trusted, no login",
    );
    agree(
        &sim.pull(&reg.image(), &[(reg.authority, &pem)], &[]),
        &out,
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
    let out = pull(&d, &cfg, &port.image());
    fails_with(
        &out,
        &unknown("https://your.gitlab.address.com:5000/v2/"),
        "pull, CA in certs.d/HOST without the port",
    );
    agree(
        &sim.pull(&port.image(), &[("your.gitlab.address.com", &pem)], &[]),
        &out,
        "pull, CA in certs.d/HOST without the port",
    );
    ns.trust(port.authority, ca.pem()).expect("certs.d");
    let out = pull(&d, &cfg, &port.image());
    fails_with(
        &out,
        "Error response from daemon: Head \"https://your.gitlab.address.com:5000/v2/x/app/manifests/1\": no basic auth credentials",
        "pull, CA in certs.d/HOST:PORT",
    );
    agree(
        &sim.pull(&port.image(), &[(port.authority, &pem)], &[]),
        &out,
        "pull, CA in certs.d/HOST:PORT",
    );

    // The CA trusted, the certificate wrong in itself.
    for s in &sites[2..7] {
        ns.trust(s.authority, ca.pem()).expect("certs.d");
    }
    let out = pull(&d, &cfg, &sites[2].image());
    agree(
        &sim.pull(&sites[2].image(), &[(sites[2].authority, &pem)], &[]),
        &out,
        "expired",
    );
    fails_with_expired(
        &out,
        "Error response from daemon: Get \"https://expired.example.test/v2/\": x509: certificate has expired or is not yet valid: current time ",
        "pull, expired",
    );
    let out = pull(&d, &cfg, &sites[3].image());
    agree(
        &sim.pull(&sites[3].image(), &[(sites[3].authority, &pem)], &[]),
        &out,
        "another name",
    );
    fails_with(
        &out,
        "Error response from daemon: Get \"https://wrong-name.example.test/v2/\": x509: certificate is valid for other.example.test, not wrong-name.example.test",
        "pull, certificate for another name",
    );
    let out = pull(&d, &cfg, &sites[4].image());
    agree(
        &sim.pull(&sites[4].image(), &[(sites[4].authority, &pem)], &[]),
        &out,
        "self-signed",
    );
    fails_with(
        &out,
        &unknown("https://self-signed.example.test/v2/"),
        "pull, self-signed",
    );
    let out = pull(&d, &cfg, &sites[5].image());
    agree(
        &sim.pull(&sites[5].image(), &[(sites[5].authority, &pem)], &[]),
        &out,
        "no intermediate",
    );
    fails_with(
        &out,
        &unknown("https://no-intermediate.example.test/v2/"),
        "pull, intermediate not sent",
    );
    let out = pull(&d, &cfg, &sites[6].image());
    agree(
        &sim.pull(&sites[6].image(), &[(sites[6].authority, &pem)], &[]),
        &out,
        "intermediate sent",
    );
    fails_with(
        &out,
        "Error response from daemon: Head \"https://chain.example.test/v2/x/app/manifests/1\": no basic auth credentials",
        "pull, intermediate sent",
    );

    // A plain-HTTP registry that dockerd takes for a secure one.
    let plain = &sites[7];
    let out = pull(&d, &cfg, &plain.image());
    agree(&sim.pull(&plain.image(), &[], &[]), &out, "plain HTTP, not insecure");
    fails_with(
        &out,
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
    // Without a login first: both engines fall back to plain HTTP and meet the registry's answer.
    let out = pull(&d, &config_dir("cli-20.10-insecure-anonymous"), &plain.image());
    assert_eq!(out.code, Some(1), "{out:?}");
    agree(
        &sim.pull(&plain.image(), &[], &[plain.authority]),
        &out,
        "plain HTTP in insecure-registries, no login",
    );
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

/// `regsim serve --tls` as a workshop uses it: started on an address of the namespace, its printed
/// steps followed as a user would (the hosts entry, the CA into certs.d under the printed
/// directory, the printed login), then the real dockerd pulls the job's image.
#[test]
fn a_pull_through_serve_tls_works_after_the_printed_steps() {
    use std::io::BufRead as _;
    let ip = Ipv4Addr::new(192, 0, 2, 50);
    let Some(ns) = namespace_or_skip(&[(ip, "gitlab.example.com"), (ip, "registry.example.com")]) else {
        return;
    };
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/tls-private-ca-in-certs-d.yaml");
    let mut serve = ns
        .command_inside(Path::new(env!("CARGO_BIN_EXE_regsim")))
        .args(["--color", "never", "serve", "--tls", "--show-secrets", "--listen"])
        .arg(ip.to_string())
        .arg(&scenario)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("regsim serve");
    let mut printed = Vec::new();
    let mut out = std::io::BufReader::new(serve.stdout.take().expect("stdout"));
    let mut line = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        printed.push(line.trim_end().to_string());
        line.clear();
        if printed.last().is_some_and(|l| l.starts_with("Every request is traced")) {
            break;
        }
    }
    let text = printed.join("\n");
    let _stop = scopeguard(serve);
    // 1. The hosts entry names the listening address.
    assert!(
        text.contains(&format!("/etc/hosts:  {ip}  gitlab.example.com registry.example.com")),
        "{text}"
    );
    // 2. The certs.d directory and the CA printed below it.
    let dir = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("sudo mkdir -p /etc/docker/certs.d/"))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a certs.d step");
    let pem: String = text
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END CERTIFICATE-----").next())
        .map(|b| format!("-----BEGIN CERTIFICATE-----{b}-----END CERTIFICATE-----\n"))
        .expect("a CA");
    ns.trust(dir, &pem).expect("certs.d");
    // 3. The login and the pull, as printed.
    let login = text
        .lines()
        .find(|l| l.trim_start().starts_with("echo '") && l.contains("docker login"))
        .expect("a login step");
    let password = login.split('\'').nth(1).expect("the password");
    let user = login
        .split(" -u ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("user");
    let pull = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("docker pull "))
        .expect("a pull step");
    let d = ns.start_dockerd("{}").unwrap_or_else(|e| panic!("{e}"));
    let cfg = ns.dir().join("serve-cli");
    std::fs::create_dir_all(&cfg).expect("config dir");
    let out = run(&d, CLI_20_10, &cfg, &["login", dir, "-u", user, "-p", password]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "Login Succeeded\n"),
        "{out:?}\n{text}"
    );
    let out = run(&d, CLI_20_10, &cfg, &["pull", "-q", pull]);
    assert_eq!((out.code, out.stdout.trim()), (Some(0), pull), "{out:?}\n{text}");
}

/// Kills `regsim serve` when the test ends, however it ends.
fn scopeguard(child: std::process::Child) -> impl Drop {
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    Kill(child)
}
