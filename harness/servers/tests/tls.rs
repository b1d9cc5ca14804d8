//! The mocks over HTTPS: each kind of server certificate met by two real TLS clients — rustls
//! (webpki) and, when installed, OpenSSL's `s_client` — with and without the run's CA, over a
//! real TCP connection to regsim's own registry mock. Also the listener's limits under TLS: a
//! client that never finishes its handshake is cut off, and a plain-HTTP client gets nothing.

use regsim_model::world::{Authority, OtherRegistry, RegistryAuth};
use regsim_servers::journal::Journal;
use regsim_servers::listen::{Limits, Listener};
use regsim_servers::registry::{RegistryConfig, RegistryServer};
use regsim_servers::tls::{Ca, EXPIRED_NOT_AFTER, Leaf};
use rustls::pki_types::ServerName;
use rustls::{CertificateError, Error as TlsErr};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAME: &str = "registry.example.test";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn registry_handler() -> Arc<RegistryServer> {
    let config = RegistryConfig::distribution(&OtherRegistry {
        host: Authority::parse(NAME).expect("a host name"),
        certificate: regsim_model::world::Certificate::PublicCa,
        auth: RegistryAuth::None,
        images: vec![],
    });
    Arc::new(RegistryServer::new(config, Default::default()))
}

fn serve(ca: &Ca, leaf: &Leaf, limits: Limits) -> Listener {
    let cert = ca.leaf(&[NAME, "127.0.0.1"], leaf).expect("certificate");
    let bound = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    Listener::start_tls(
        bound,
        registry_handler(),
        Journal::with_capacity(100),
        limits,
        cert.server_tls().expect("server TLS"),
    )
    .expect("listener")
}

/// A rustls client trusting `roots` (none: an empty store) asks `GET /v2/` by `name`: the
/// answer's status line, or the TLS error.
fn get_v2(addr: SocketAddr, name: &str, roots: &[&Ca]) -> Result<String, TlsErr> {
    let mut store = rustls::RootCertStore::empty();
    for ca in roots {
        store.add(ca.der().clone()).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    let server_name = ServerName::try_from(name.to_string()).expect("server name");
    let mut conn = rustls::ClientConnection::new(Arc::new(config), server_name).expect("client");
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    let request = format!("GET /v2/ HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n");
    if let Err(e) = tls.write_all(request.as_bytes()) {
        return Err(tls_error(e));
    }
    let mut answer = Vec::new();
    match tls.read_to_end(&mut answer) {
        Ok(_) => {}
        // rustls reports a peer that closes without close_notify; the answer is there.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => return Err(tls_error(e)),
    }
    let text = String::from_utf8_lossy(&answer);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// The listener's handshakes once `n` are recorded (the server records one just after the client
/// is done with it), or what there is after 5 s.
fn handshakes(server: &Listener, n: usize) -> Vec<regsim_servers::listen::Handshake> {
    let start = Instant::now();
    loop {
        let seen = server.handshakes();
        if seen.len() >= n || start.elapsed() > Duration::from_secs(5) {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn tls_error(e: std::io::Error) -> TlsErr {
    match e.into_inner().map(|inner| inner.downcast::<TlsErr>()) {
        Some(Ok(tls)) => *tls,
        Some(Err(other)) => TlsErr::General(other.to_string()),
        None => TlsErr::General("an I/O error without a cause".into()),
    }
}

#[test]
fn each_certificate_gets_its_verdict_from_rustls() {
    let ca = Ca::new("regsim test CA").expect("CA");
    let other_ca = Ca::new("another CA").expect("CA");
    let ok = "HTTP/1.1 200 OK".to_string();
    // (leaf, verdict with the run's CA trusted, verdict with an unrelated CA trusted)
    type Verdict = fn(&Result<String, TlsErr>) -> bool;
    let unknown_issuer: Verdict = |r| matches!(r, Err(TlsErr::InvalidCertificate(CertificateError::UnknownIssuer)));
    let cases: Vec<(Leaf, Verdict, Verdict)> = vec![
        (Leaf::Issued, |r| r.as_deref() == Ok("HTTP/1.1 200 OK"), unknown_issuer),
        (
            Leaf::ViaIntermediate,
            |r| r.as_deref() == Ok("HTTP/1.1 200 OK"),
            unknown_issuer,
        ),
        (Leaf::MissingIntermediate, unknown_issuer, unknown_issuer),
        (Leaf::SelfSigned, unknown_issuer, unknown_issuer),
        (
            Leaf::Expired,
            |r| {
                matches!(r, Err(TlsErr::InvalidCertificate(CertificateError::ExpiredContext { not_after, .. }))
                    if not_after.as_secs() == EXPIRED_NOT_AFTER.unix_timestamp() as u64)
            },
            |r| {
                matches!(
                    r,
                    Err(TlsErr::InvalidCertificate(
                        CertificateError::ExpiredContext { .. } | CertificateError::UnknownIssuer
                    ))
                )
            },
        ),
        (
            Leaf::ForOtherNames(vec!["other.example.test".into()]),
            |r| {
                matches!(
                    r,
                    Err(TlsErr::InvalidCertificate(
                        CertificateError::NotValidForNameContext { .. }
                    ))
                )
            },
            |r| {
                matches!(
                    r,
                    Err(TlsErr::InvalidCertificate(
                        CertificateError::NotValidForNameContext { .. } | CertificateError::UnknownIssuer
                    ))
                )
            },
        ),
    ];
    for (leaf, trusted, untrusted) in cases {
        let server = serve(&ca, &leaf, Limits::default());
        let with_ca = get_v2(*server.address(), NAME, &[&ca]);
        assert!(trusted(&with_ca), "{}, CA trusted: {with_ca:?}", leaf.as_str());
        let without = get_v2(*server.address(), NAME, &[&other_ca]);
        assert!(untrusted(&without), "{}, CA not trusted: {without:?}", leaf.as_str());
        let nothing = get_v2(*server.address(), NAME, &[]);
        assert!(nothing.is_err(), "{}, no roots: {nothing:?}", leaf.as_str());
        // The server saw each handshake, by the name the client asked for.
        let seen = handshakes(&server, 3);
        assert_eq!(seen.len(), 3, "{}: {seen:?}", leaf.as_str());
        assert!(seen.iter().all(|h| h.server_name.as_deref() == Some(NAME)), "{seen:?}");
        assert_eq!(seen[1].outcome.is_ok(), without.is_ok(), "{seen:?}");
    }
    // The certificate names its IP address too: a client dialling 127.0.0.1 by address.
    let server = serve(&ca, &Leaf::Issued, Limits::default());
    assert_eq!(get_v2(*server.address(), "127.0.0.1", &[&ca]), Ok(ok));
    assert_eq!(server.scheme(), "https");
    assert!(server.uri().starts_with("https://127.0.0.1:"));
}

/// `openssl s_client`'s verify result against each certificate, the CA given with `-CAfile`.
#[test]
fn each_certificate_gets_its_verdict_from_openssl() {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        assert!(!in_ci(), "CI must have openssl (.ci/run installs it)");
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED openssl s_client checks: openssl is not installed"
        );
        return;
    }
    let ca = Ca::new("regsim test CA").expect("CA");
    let dir = std::env::temp_dir().join(format!("regsim-tls-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca_file = dir.join("ca.crt");
    std::fs::write(&ca_file, ca.pem()).expect("CA file");
    // (leaf, what OpenSSL 1.1 / 3.x says; `Verify return code: 0 (ok)` for a good chain)
    let cases = [
        (Leaf::Issued, "Verify return code: 0 (ok)"),
        (Leaf::ViaIntermediate, "Verify return code: 0 (ok)"),
        (Leaf::MissingIntermediate, "unable to verify the first certificate"),
        (Leaf::SelfSigned, "self"),
        (Leaf::Expired, "certificate has expired"),
        (
            Leaf::ForOtherNames(vec!["other.example.test".into()]),
            "hostname mismatch",
        ),
    ];
    for (leaf, expected) in cases {
        let server = serve(&ca, &leaf, Limits::default());
        let out = std::process::Command::new("timeout")
            .args(["20", "openssl", "s_client", "-connect"])
            .arg(server.address().to_string())
            .args(["-servername", NAME, "-verify_hostname", NAME, "-CAfile"])
            .arg(&ca_file)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let verify = text
            .lines()
            .find(|l| l.contains("Verify return code:"))
            .unwrap_or_default();
        assert!(verify.contains(expected), "{}: {verify}\n{text}", leaf.as_str());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_handshake_that_never_comes_is_cut_off_and_plain_http_gets_no_answer() {
    let ca = Ca::new("regsim test CA").expect("CA");
    let limits = Limits {
        header_read: Duration::from_millis(500),
        ..Limits::default()
    };
    let server = serve(&ca, &Leaf::Issued, limits);
    // Connected, silent: closed at the handshake's limit.
    let mut silent = TcpStream::connect(server.address()).expect("connect");
    silent.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let n = silent.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the server sent {:?}", &buf[..n]);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "closed after {:?}",
        start.elapsed()
    );
    // Plain HTTP on the TLS port: no HTTP answer.
    let mut plain = TcpStream::connect(server.address()).expect("connect");
    plain.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    plain
        .write_all(b"GET /v2/ HTTP/1.1\r\nHost: registry.example.test\r\n\r\n")
        .expect("write");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "{:?}", String::from_utf8_lossy(&answer));
    // Both were recorded, and the server still answers a good client.
    let seen = handshakes(&server, 2);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0]
            .outcome
            .as_ref()
            .is_err_and(|e| e.contains("no handshake within 500 ms")),
        "{seen:?}"
    );
    assert!(seen[1].outcome.is_err(), "{seen:?}");
    assert_eq!(
        get_v2(*server.address(), NAME, &[&ca]).as_deref(),
        Ok("HTTP/1.1 200 OK")
    );
}

/// What Go's client calls `http: server gave HTTP response to HTTPS client`: a plain-HTTP
/// listener answers a TLS hello with an HTTP status line (hyper's 400 for a head that does not
/// parse), and Go's client recognises the `HTTP/` at the start of what should be a TLS record.
#[test]
fn a_plain_listener_answers_a_tls_hello_in_http() {
    let bound = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let server =
        Listener::start(bound, registry_handler(), Journal::with_capacity(10), Limits::default()).expect("listener");
    assert_eq!(server.scheme(), "http");
    let err = get_v2(*server.address(), NAME, &[]).expect_err("no TLS there");
    // What rustls makes of an HTTP answer; Go's client words it its own way.
    assert!(matches!(err, TlsErr::InvalidMessage(_) | TlsErr::General(_)), "{err:?}");
    let mut tcp = TcpStream::connect(server.address()).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    // The first bytes of a TLS 1.2 ClientHello record.
    tcp.write_all(&[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])
        .expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
}

#[test]
fn a_certificate_needs_a_name_and_a_valid_one() {
    let ca = Ca::new("regsim test CA").expect("CA");
    assert!(ca.leaf(&[], &Leaf::Issued).is_err());
    assert!(ca.leaf(&[NAME], &Leaf::ForOtherNames(vec![])).is_err());
    assert!(ca.leaf(&["régistry.example.test"], &Leaf::Issued).is_err());
    let cert = ca
        .leaf(&[NAME, "192.0.2.10"], &Leaf::ViaIntermediate)
        .expect("certificate");
    assert_eq!(cert.chain().len(), 2);
    assert!(cert.leaf_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(ca.pem().starts_with("-----BEGIN CERTIFICATE-----"));
}
