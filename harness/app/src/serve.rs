//! `regsim serve`: a scenario's mocks kept up on loopback for real clients (`docker login`,
//! `docker pull`, skopeo …), with the credentials of every identity in the scenario and a live
//! trace of each exchange — the workshop view.

use crate::term::{emit, emitln, warn};
use regsim_model::scenario::TokenKind;
use regsim_model::world::Overrides;
use regsim_model::world::RegistryAuth;
use regsim_servers::journal::Exchange;
use regsim_servers::{Clock, Keys, Placement, Settings, Stage};
use regsim_wire::reference::gitlab_runner::split_docker_image_name;
use regsim_wire::secret::masked;
use std::path::Path;
use std::time::Duration;

/// How `regsim serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// `IP[:PORT]`, as `--listen` gives it.
    pub listen: Option<String>,
    pub show_secrets: bool,
    pub live_clock: bool,
    pub fresh_keys: bool,
    /// `--tls`: HTTPS by the scenario's names.
    pub tls: bool,
    pub idle_timeout: Duration,
    pub trace_format: TraceFormat,
}

/// How `regsim serve` traces exchanges on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TraceFormat {
    /// One line per exchange, for people; the addresses and logins come first.
    #[default]
    Text,
    /// One JSON object per exchange and line, for log shippers (docs/json-serve-trace.md); the
    /// addresses and logins go to standard error.
    Json,
}

/// Names the shape of a JSON trace line; bumped on any incompatible change.
pub const TRACE_FORMAT: &str = "regsim-serve-trace/1";

/// One exchange as a JSON trace line.
#[derive(Debug, serde::Serialize)]
pub struct TraceEntry {
    pub format: &'static str,
    /// When the trace line was written (RFC 3339, UTC, the machine's clock).
    pub time: String,
    /// The scenario being served (its file's stem).
    pub scenario: String,
    #[serde(flatten)]
    pub exchange: crate::report::json::ExchangeEntry,
}

impl TraceEntry {
    pub fn new(scenario: &str, e: &Exchange) -> TraceEntry {
        let now = time::OffsetDateTime::now_utc();
        TraceEntry {
            format: TRACE_FORMAT,
            time: now
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            scenario: scenario.to_string(),
            exchange: e.into(),
        }
    }

    pub fn render(&self) -> String {
        serde_json::to_string(self).expect("trace entry serialises")
    }
}

/// Why `regsim serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Scenario(#[from] regsim_model::scenario::ScenarioError),
    #[error("--listen {0}: expected IP or IP:PORT")]
    Listen(String),
    #[error("fresh keys could not be made: {0}")]
    Keys(String),
    #[error(transparent)]
    Stage(#[from] regsim_servers::StageError),
}

/// `--listen IP[:PORT]`: the address, port 0 when none is given.
fn listen_at(l: &str) -> Result<(std::net::IpAddr, u16), ServeError> {
    let (ip, port) = match l.rsplit_once(':') {
        Some((ip, p)) => (ip, p.parse::<u16>().ok()),
        None => (l, Some(0)),
    };
    match (ip.trim_matches(['[', ']']).parse::<std::net::IpAddr>(), port) {
        (Ok(ip), Some(p)) => Ok((ip, p)),
        _ => Err(ServeError::Listen(l.to_string())),
    }
}

/// The servers' settings for these options.
fn settings(options: &Options) -> Result<Settings, ServeError> {
    let mut settings = Settings {
        // serve only traces exchanges as they happen; it keeps the last few for nothing else.
        journal_capacity: 1000,
        ..Settings::default()
    };
    settings.limits.idle = options.idle_timeout;
    if options.live_clock {
        settings.clock = Clock::Live;
    }
    if options.fresh_keys {
        settings.keys = Keys::fresh().map_err(|e| ServeError::Keys(e.to_string()))?;
    }
    Ok(settings)
}

/// Keeps the scenario's mocks up until Ctrl-C, tracing every exchange and reloading the file
/// when it changes (workshop mode).
pub fn serve(path: &Path, options: &Options, rt: &tokio::runtime::Runtime) -> Result<(), ServeError> {
    let world = crate::run::load(path, &Overrides::default())?;
    let at = options.listen.as_deref().map(listen_at).transpose()?;
    let settings = settings(options)?;
    let (placement, pki) = if options.tls {
        // Valid at the machine's time: the user's Docker checks them against its own clock.
        let pki = regsim_servers::pki::Pki::at(time::OffsetDateTime::now_utc())
            .map_err(|e| ServeError::Keys(format!("the certificate authorities: {e}")))?;
        (Placement::NamedOnPorts, Some(std::sync::Arc::new(pki)))
    } else {
        (Placement::Loopback, None)
    };
    rt.block_on(async move {
        let mut stage = Stage::start_with_pki(&world, placement, at, settings, pki).await?;
        let mut trace = stage.journal.subscribe();
        let json = options.trace_format == TraceFormat::Json;
        // People read the addresses and logins; a log shipper reads only the trace.
        let say = |text: &str| {
            if json {
                warn(text.trim_end_matches('\n'))
            } else {
                emit(text)
            }
        };
        say(&describe(&stage, options.show_secrets));
        say(&format!(
            "(edit {} to flip a setting: the mocks reload it on the same addresses)\n",
            path.display()
        ));
        let mut watch = Watch::new(path);
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                Some(e) = trace.recv() => {
                    if json {
                        emitln(&TraceEntry::new(&stage.world.name, &e).render());
                    } else {
                        emitln(&trace_line(&e));
                    }
                }
                _ = tick.tick() => {
                    if !watch.changed() {
                        continue;
                    }
                    match crate::run::load(path, &Overrides::default()) {
                        Err(e) => say(&format!("── {e}\n── still serving the previous version\n")),
                        Ok(world) => match stage.reload(&world, placement).await {
                            Ok(()) => say(&format!(
                                "── {} changed: the mocks answer for it now, on the same addresses\n{}",
                                path.display(),
                                describe(&stage, options.show_secrets)
                            )),
                            Err(e) => say(&format!("── edit refused: {e}; still serving the previous version\n")),
                        },
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        Ok(())
    })
}

/// What to print when the mocks are up: addresses, identities, copy-paste commands. Secrets the
/// scenario holds are masked unless `show_secrets` (`--show-secrets`).
pub fn describe(stage: &Stage, show_secrets: bool) -> String {
    let secret = |s: &str| if show_secrets { s.to_string() } else { masked(s) };
    let w = &stage.world;
    let reg = w.gitlab.registry.to_string();
    let mut s = String::new();
    s.push_str(&format!("regsim serve: {}\n{}\n\n", w.name, w.description));
    s.push_str(&format!(
        "GitLab {} (token service, job API)   {}\n",
        w.gitlab.version,
        stage.gitlab.uri()
    ));
    let scheme = |c: &regsim_model::world::Certificate| if c.is_tls() { "https" } else { "http" };
    s.push_str(&format!(
        "GitLab container registry             {}://{reg}\n",
        scheme(&w.gitlab.registry_certificate)
    ));
    for r in &w.registries {
        s.push_str(&format!(
            "registry (not GitLab's)               {}://{}\n",
            scheme(&r.certificate),
            r.host
        ));
    }
    s.push_str("\nIdentities (docker login USER with the secret as password):\n");
    if !show_secrets {
        s.push_str(
            "  (the scenario's passwords and tokens are masked: they are in its file, or run with --show-secrets)\n",
        );
    }
    s.push_str(&format!(
        "  gitlab-ci-token   {}   CI_JOB_TOKEN of job {} in {} (triggered by {})\n",
        w.job.token, w.job.id, w.job.project, w.job.user
    ));
    for t in &w.tokens {
        let (user, what) = match t.kind {
            TokenKind::DeployToken => (t.username.clone().unwrap_or_default(), "deploy token"),
            TokenKind::PersonalAccessToken => (t.name.clone(), "personal access token (any username)"),
            TokenKind::ProjectAccessToken => (t.name.clone(), "project access token (any username)"),
            TokenKind::GroupAccessToken => (t.name.clone(), "group access token (any username)"),
        };
        s.push_str(&format!(
            "  {user}   {}   {what} `{}`, scopes [{}]\n",
            secret(&t.value),
            t.name,
            t.scopes.join(", ")
        ));
    }
    for u in w.users.iter().filter(|u| u.password.is_some()) {
        let tfa = if u.two_factor {
            " (2FA on: GitLab refuses the password)"
        } else {
            ""
        };
        s.push_str(&format!(
            "  {}   {}   password{tfa}\n",
            u.username,
            secret(u.password.as_deref().unwrap_or_default())
        ));
    }
    for r in &w.registries {
        if let RegistryAuth::Basic { users, .. } = &r.auth {
            for (u, p) in users {
                s.push_str(&format!("  {u}   {}   htpasswd user of {}\n", secret(p), r.host));
            }
        }
    }
    // The login the runner itself would do for the job's image (credentials.rs: the variable,
    // the host's config.json, then the job payload), so the pull below behaves as in the job.
    let payload = regsim_servers::gitlab::job_payload(w);
    let image = regsim_runner::expand::expanded_image(&payload);
    let resolved = regsim_runner::credentials::resolve_for_job(w, &payload, &image).found;
    if w.gitlab.scheme == "https" && w.gitlab.registry_certificate.is_tls() {
        s.push_str(&tls_steps(stage));
        s.push_str("\nThen:\n");
    } else {
        s.push_str("\nTry (Docker treats 127.0.0.0/8 registries as insecure, so plain HTTP works):\n");
    }
    match resolved {
        Some(r) if !r.config.username.is_empty() => s.push_str(&format!(
            "  echo '{}' | docker login {} -u {} --password-stdin   # as the runner: credentials from {}\n",
            secret(&r.config.password),
            split_docker_image_name(&image),
            r.config.username,
            r.source
        )),
        _ => s.push_str("  # the runner sends no credentials for the job's image: an anonymous pull\n"),
    }
    if crate::run::pulls_from_docker_hub(w) {
        s.push_str(&format!(
            "  # {image} is on Docker Hub: regsim's Hub answers the simulated engine only (it cannot take the\n  \
             # name registry-1.docker.io here); a `docker pull` would reach the real Docker Hub\n"
        ));
    } else {
        s.push_str(&format!("  docker pull {image}\n"));
    }
    for p in &w.projects {
        for i in &p.images {
            let name = format!("{reg}/{}:{}", i.repository, i.tag);
            if name != image {
                s.push_str(&format!("  docker pull {name}\n"));
            }
        }
    }
    s.push_str("\nEvery request is traced below. Ctrl-C stops the servers.\n");
    s
}

/// `--tls`: how a user's Docker reaches the servers by their names and trusts them — a hosts
/// entry, and for each registry the CA its certificate chains to, for `certs.d`.
fn tls_steps(stage: &Stage) -> String {
    use regsim_model::world::Certificate;
    let w = &stage.world;
    let ip = stage.gitlab.address().ip();
    let mut hosts: Vec<&str> = regsim_servers::pki::servers(w)
        .iter()
        .map(|(a, _)| a.host.as_str())
        .collect();
    hosts.dedup();
    let mut s = String::from("\nHTTPS by the scenario's names. On the machine whose Docker pulls:\n");
    s.push_str(&format!("  1. /etc/hosts:  {ip}  {}\n", hosts.join(" ")));
    if ip.is_loopback() {
        s.push_str(
            "     (on 127.0.0.0/8 Docker checks no certificate: serve with --listen on another address to see it)\n",
        );
    }
    s.push_str("  2. trust the CA that vouches for each registry, as users do:\n");
    let mut registries = vec![(w.gitlab.registry.to_string(), &w.gitlab.registry_certificate)];
    registries.extend(w.registries.iter().map(|r| (r.host.to_string(), &r.certificate)));
    let mut cas: Vec<(&str, String)> = Vec::new();
    for (authority, certificate) in registries {
        let (which, pem) = match certificate {
            Certificate::PlainHttp => {
                s.push_str(&format!(
                    "     {authority}: plain HTTP — add it to \"insecure-registries\" in /etc/docker/daemon.json\n"
                ));
                continue;
            }
            Certificate::SelfSigned => {
                s.push_str(&format!(
                    "     {authority}: self-signed — its certificate is its own CA (openssl s_client -showcerts)\n"
                ));
                continue;
            }
            Certificate::PrivateCa => (
                "the instance's CA",
                regsim_servers::tls::pem_block(stage.pki.private.der()),
            ),
            _ => (
                "the run's public CA",
                regsim_servers::tls::pem_block(stage.pki.public.der()),
            ),
        };
        s.push_str(&format!(
            "     sudo mkdir -p /etc/docker/certs.d/{authority} && sudo tee /etc/docker/certs.d/{authority}/ca.crt < ca.crt   # {which}, below\n"
        ));
        if !cas.iter().any(|(w, _)| *w == which) {
            cas.push((which, pem));
        }
    }
    for (which, pem) in cas {
        s.push_str(&format!("  ca.crt ({which}):\n{pem}"));
    }
    s
}

/// One exchange as a trace line.
pub fn trace_line(e: &Exchange) -> String {
    let creds = if e.credentials.is_empty() {
        String::new()
    } else {
        format!(" [{}]", e.credentials)
    };
    format!(
        "{:<8} {} {}{creds} → {} {}",
        e.server, e.method, e.target, e.status, e.note
    )
}

/// The scenario file as last read: `regsim serve` re-reads it twice a second and, when its bytes
/// change, reloads the stage (workshop mode: flip a setting without a restart).
pub struct Watch {
    path: std::path::PathBuf,
    last: Option<Vec<u8>>,
}

impl Watch {
    pub fn new(path: &std::path::Path) -> Watch {
        Watch {
            path: path.to_path_buf(),
            last: std::fs::read(path).ok(),
        }
    }

    /// Whether the file's bytes differ from the last read (a file that vanished mid-save counts
    /// as unchanged until it is back).
    pub fn changed(&mut self) -> bool {
        match std::fs::read(&self.path) {
            Ok(now) if self.last.as_ref() != Some(&now) => {
                self.last = Some(now);
                true
            }
            _ => false,
        }
    }
}
