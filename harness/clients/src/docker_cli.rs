//! The Docker CLI installed in the job image (its release in `versions::docker_cli`), talking to
//! the runner host's daemon through the mounted socket. It keeps what `docker login` stored (its
//! config.json) and writes each command's output to stdout or stderr as the CLI does; the script
//! prints both, a build tool such as sbt logs them differently.

use crate::engine::{AuthConfig, DaemonError, Engine, Message, ProgressStream};
use regsim_model::versions::docker_cli::{
    ClientInit, ClientProfile, ConnectFailure, ENV_AUTH_CONFIG_LOGIN_WARNING, EmptyCredentials, EnvAuthConfig,
    InfoOnConnectError, PushCredentials, TlsLegFailure, client_init, connect_error, default_api_version,
    info_on_connect_error,
};
use regsim_model::versions::lookup;
use regsim_wire::NotModelled;
use regsim_wire::engine_api::INDEX_SERVER as DOCKER_HUB_INDEX_SERVER;
use regsim_wire::reference::Reference;
use std::collections::BTreeMap;

/// Which of the CLI's streams a piece of output went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fd {
    Stdout,
    Stderr,
}

/// What one `docker …` command wrote, in order, and its exit code.
#[derive(Debug, Clone, Default)]
pub struct CliRun {
    pub output: Vec<(Fd, String)>,
    pub code: i32,
}

impl CliRun {
    pub(crate) fn out(&mut self, text: impl Into<String>) {
        self.output.push((Fd::Stdout, text.into()));
    }
    pub(crate) fn err(&mut self, text: impl Into<String>) {
        self.output.push((Fd::Stderr, text.into()));
    }

    /// A non-terminal CLI's rendering of a stream (`jsonmessage.DisplayJSONMessagesStream`): each
    /// status on its own line on stdout, builder output as is; the error that ends the stream is
    /// returned by the CLI and printed on stderr.
    fn stream(&mut self, stream: &ProgressStream) {
        for m in &stream.messages {
            match m {
                Message::Status { id: Some(id), status } => self.out(format!("{id}: {status}\n")),
                Message::Status { id: None, status } => self.out(format!("{status}\n")),
                Message::Stream(s) => self.out(s.clone()),
            }
        }
        if let Some(e) = &stream.error {
            self.err(format!("{e}\n"));
            self.code = 1;
        }
    }

    /// An error the daemon answered: `Error response from daemon: …` for an HTTP error (the
    /// client library's prefix), the bare message for one that ended a stream.
    fn daemon_error(&mut self, e: DaemonError) -> Result<(), NotModelled> {
        match e {
            DaemonError::Http { message, .. } => self.err(format!("Error response from daemon: {message}\n")),
            DaemonError::Stream { message } | DaemonError::Client { message } => self.err(format!("{message}\n")),
            DaemonError::Unmodelled(m) => return Err(m),
        }
        self.code = 1;
        Ok(())
    }

    /// Both streams as a terminal-less job log shows them.
    pub fn text(&self) -> String {
        self.output.iter().map(|(_, t)| t.as_str()).collect()
    }
}

/// `-x VALUE`, `--long VALUE` or `--long=VALUE`.
pub fn flag(args: &[String], short: &str, long: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if a == short || a == long {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&format!("{long}=")).map(str::to_string)
        }
    })
}

/// Arguments that are not flags or their values.
pub fn positional(args: &[String], with_values: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if with_values.contains(&a.as_str()) {
            skip = true;
        } else if !a.starts_with('-') {
            out.push(a.clone());
        }
    }
    out
}

/// The daemon a CLI talks to: the runner host's, or one it owns (a dind service's).
pub enum Daemon<'a> {
    Host(&'a Engine),
    Owned(Box<Engine>),
}

impl std::ops::Deref for Daemon<'_> {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        match self {
            Daemon::Host(e) => e,
            Daemon::Owned(e) => e,
        }
    }
}

/// What `docker COMMAND` prints when its leg to a TLS dind does not come up (`before_call`:
/// what the command prints before its first API call, the `-p` warning for `login`). Checked
/// against the real CLIs 20.10.24 and 28.2.2 (tests/cli_tls_leg.rs).
pub fn tls_leg_output(
    client: &ClientProfile,
    command: &str,
    before_call: &str,
    failure: &TlsLegFailure,
) -> Result<CliRun, NotModelled> {
    if !matches!(command, "login" | "push") {
        return Err(NotModelled::new(format!(
            "what `docker {command}` prints when its TLS leg to the dind service fails is not observed"
        )));
    }
    let v = &client.version;
    let mut run = CliRun::default();
    match failure {
        TlsLegFailure::PlainHttpToTls if *v >= semver::Version::new(20, 10, 0) => {
            run.err(before_call.to_string());
            run.err(format!("{}\n", failure.text()));
        }
        TlsLegFailure::PlainHttpToTls => {
            return Err(NotModelled::new(format!(
                "Docker CLI {v}: its words for a 400 from a TLS listener are not observed before 20.10"
            )));
        }
        TlsLegFailure::MissingCa { .. } => match lookup(&client_init(), v).and_then(|e| e.value) {
            Some(ClientInit::Eager) => run.err(format!("{}\n", failure.text())),
            Some(ClientInit::Lazy) => {
                run.err(before_call.to_string());
                run.err(format!("Failed to initialize: {}\n", failure.text()));
            }
            None => {
                return Err(NotModelled::new(format!(
                    "Docker CLI {v}: how it reports an unusable TLS endpoint is not researched"
                )));
            }
        },
    }
    run.code = 1;
    Ok(run)
}

/// The job image's CLI during one job.
pub struct DockerCli<'a> {
    pub engine: Daemon<'a>,
    pub client: &'a ClientProfile,
    /// config.json's `auths`: server address → (user, password).
    logins: BTreeMap<String, (String, String)>,
    /// Set when DOCKER_HOST leads nowhere: the authority of its URL and why.
    unreachable: Option<(String, ConnectFailure)>,
    /// Set when the leg to a TLS dind service does not come up.
    tls_leg: Option<TlsLegFailure>,
    /// Where config.json is (the login warnings name it).
    config_path: String,
    /// The job's `DOCKER_AUTH_CONFIG`, as the CLI's environment holds it.
    env_auth_config: Option<String>,
}

/// The only shape 28.3's CLI accepts in DOCKER_AUTH_CONFIG (`DisallowUnknownFields`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvAuths {
    auths: BTreeMap<String, EnvAuth>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvAuth {
    auth: String,
}

impl<'a> DockerCli<'a> {
    pub fn new(engine: &'a Engine, client: &'a ClientProfile) -> Self {
        Self::on(Daemon::Host(engine), client)
    }

    /// A CLI whose DOCKER_HOST leads to a daemon of its own (a dind service's).
    pub fn new_owned(engine: Engine, client: &'a ClientProfile) -> Self {
        Self::on(Daemon::Owned(Box::new(engine)), client)
    }

    fn on(engine: Daemon<'a>, client: &'a ClientProfile) -> Self {
        DockerCli {
            engine,
            client,
            logins: BTreeMap::new(),
            unreachable: None,
            tls_leg: None,
            // A job image runs as root with the default config location.
            config_path: "/root/.docker/config.json".into(),
            env_auth_config: None,
        }
    }

    /// A CLI whose environment holds `DOCKER_AUTH_CONFIG` (a CI variable the runner exports).
    pub fn with_env_auth_config(mut self, value: Option<String>) -> Self {
        self.env_auth_config = value.filter(|v| !v.is_empty());
        self
    }

    /// `unset DOCKER_AUTH_CONFIG` in the script: later commands start without it.
    pub fn unset_env_auth_config(&mut self) {
        self.env_auth_config = None;
    }

    /// The entry the 28.3 → store built from DOCKER_AUTH_CONFIG holds for `key` (exact keys, no
    /// hostname matching); `Ok(None)` when the CLI ignores the variable or it names no such key.
    fn env_login(&self, key: &str) -> Result<Option<(String, String)>, NotModelled> {
        let (EnvAuthConfig::TakesPrecedence { .. }, Some(value)) = (self.client.env_auth_config, &self.env_auth_config)
        else {
            return Ok(None);
        };
        let parsed: EnvAuths = serde_json::from_str(value).map_err(|e| {
            NotModelled::new(format!(
                "Docker CLI {}: DOCKER_AUTH_CONFIG is not the `{{\"auths\":{{KEY:{{\"auth\":…}}}}}}` the CLI accepts ({e}); \
                 how often it prints `Failed to create credential store from DOCKER_AUTH_CONFIG:` per command is not modelled",
                self.client.version
            ))
        })?;
        let Some(entry) = parsed.auths.get(key) else {
            return Ok(None);
        };
        let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, entry.auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.split_once(':').map(|(u, p)| (u.to_string(), p.to_string())))
            .ok_or_else(|| {
                NotModelled::new(format!(
                    "DOCKER_AUTH_CONFIG's `auth` for {key} is not base64 of USER:PASSWORD: what the CLI then does is not modelled"
                ))
            })?;
        Ok(Some(decoded))
    }

    /// A CLI whose config.json at `path` already holds `logins` (a shell runner's user, whose
    /// earlier `docker login`s stay on the host).
    pub fn with_config(mut self, path: String, logins: BTreeMap<String, (String, String)>) -> Self {
        self.config_path = path;
        self.logins = logins;
        self
    }

    /// A CLI whose DOCKER_HOST reaches no daemon.
    pub fn unreachable(mut self, authority: String, failure: ConnectFailure) -> Self {
        self.unreachable = Some((authority, failure));
        self
    }

    /// A CLI whose leg to its TLS dind does not come up.
    pub fn tls_leg_fails(mut self, failure: TlsLegFailure) -> Self {
        self.tls_leg = Some(failure);
        self
    }

    /// What `command` prints when the TLS leg failed; `None` when the leg is fine.
    fn tls_leg_failed(&self, command: &str, before_call: &str) -> Result<Option<CliRun>, NotModelled> {
        match &self.tls_leg {
            Some(failure) => tls_leg_output(self.client, command, before_call, failure).map(Some),
            None => Ok(None),
        }
    }

    /// Commands other than `docker info` that reach no daemon: their texts are not researched.
    fn reachable(&self, command: &str) -> Result<(), NotModelled> {
        match &self.unreachable {
            Some((authority, _)) => Err(NotModelled::new(format!(
                "what `docker {command}` prints when DOCKER_HOST ({authority}) reaches no daemon is not researched"
            ))),
            None => Ok(()),
        }
    }

    /// `docker info`: modelled only when it cannot connect (a daemon's full report is not).
    pub async fn info(&mut self) -> Result<CliRun, NotModelled> {
        let Some((authority, failure)) = &self.unreachable else {
            return Err("the output of a `docker info` that reaches a daemon is not simulated".into());
        };
        let v = &self.client.version;
        let shape = lookup(&info_on_connect_error(), v).and_then(|e| e.value.map(|s| (s, e.source)));
        let api = lookup(&default_api_version(), v).and_then(|e| e.value);
        let (Some((InfoOnConnectError::ErrorOnly, _)), Some(api)) = (shape, api) else {
            return Err(NotModelled::new(format!(
                "Docker CLI {v}: what `docker info` prints when it cannot connect is not researched for this release"
            )));
        };
        // The client speaks plain HTTP to tcp:// hosts without TLS settings.
        let url = format!("http://{authority}/v{api}/info");
        let quoted = lookup(&regsim_model::versions::docker::engine_table(), v)
            .map(|e| e.value.quoted_urls)
            .ok_or_else(|| format!("Docker CLI {v}: the Go it was built with is not known"))?;
        let mut run = CliRun::default();
        run.err(format!("{}\n", connect_error("Get", &url, quoted, failure)));
        run.code = 1;
        Ok(run)
    }

    /// `docker login -u USER -p PASSWORD HOST`.
    pub async fn login(&mut self, args: &[String]) -> Result<CliRun, NotModelled> {
        self.reachable("login")?;
        let mut run = CliRun::default();
        let user = flag(args, "-u", "--username").unwrap_or_default();
        let password =
            flag(args, "-p", "--password").ok_or("only `docker login -u USER -p PASSWORD HOST` is simulated")?;
        if user.is_empty() || password.is_empty() {
            // A CI variable that is empty (no deploy token, CI_BUILD_TOKEN gone): no request.
            let text = match self.client.empty_credentials {
                EmptyCredentials::NonTtyError => {
                    if !password.is_empty() {
                        run.err(self.client.login.before_request().to_string());
                    }
                    "Error: Cannot perform an interactive login from a non TTY device\n"
                }
                EmptyCredentials::FlagValidation if user.is_empty() => "username is empty\n",
                EmptyCredentials::FlagValidation => "password is empty\n",
            };
            run.err(text.to_string());
            run.code = 1;
            return Ok(run);
        }
        // Without a server the CLI signs in to Docker Hub's index address (runLogin: `authServer`
        // from ElectAuthServer, registry.IndexServer; docker/cli v18.09.7 … v28.2.2
        // cli/command/registry/login.go), which dockerd's Auth turns into registry-1.docker.io.
        let server = positional(args, &["-u", "--username", "-p", "--password"])
            .first()
            .cloned()
            .unwrap_or_else(|| DOCKER_HUB_INDEX_SERVER.to_string());
        if let Some(run) = self.tls_leg_failed("login", self.client.login.before_request())? {
            return Ok(run);
        }
        // The `-p` warning comes before the daemon is asked, whatever it answers.
        let warning = self.client.login.before_request();
        if !warning.is_empty() {
            run.err(warning.to_string());
        }
        // Then, once the flags are valid, the DOCKER_AUTH_CONFIG note (runLogin:
        // verifyLoginOptions, then maybePrintEnvAuthWarning; cli v28.3.2 login.go:110-114).
        if let (EnvAuthConfig::TakesPrecedence { login_warning: true }, Some(_)) =
            (self.client.env_auth_config, &self.env_auth_config)
        {
            run.err(ENV_AUTH_CONFIG_LOGIN_WARNING.to_string());
        }
        match self.engine.login(&user, &password, &server).await {
            Ok(status) => {
                // The warnings go to stderr, the daemon's status to stdout.
                let changed = self.logins.get(&server) != Some(&(user.clone(), password.clone()));
                let after = self.client.login.after_success(&self.config_path, changed);
                if !after.is_empty() {
                    run.err(after);
                }
                run.out(format!("{status}\n"));
                self.logins.insert(server, (user, password));
            }
            Err(e) => run.daemon_error(e)?,
        }
        Ok(run)
    }

    /// `docker build [--force-rm] -t NAME .` of a context holding only `dockerfile`.
    pub async fn build(&mut self, args: &[String], dockerfile: &str) -> Result<CliRun, NotModelled> {
        self.reachable("build")?;
        self.tls_leg_failed("build", "")?;
        let mut run = CliRun::default();
        let tag = flag(args, "-t", "--tag").ok_or("only `docker build -t NAME .` is simulated")?;
        let context = positional(args, &["-t", "--tag"]);
        if context.as_slice() != ["."] {
            return Err("only a build of the current directory (`.`) is simulated".into());
        }
        // The CLI tars the context itself and reports its size before the daemon says anything.
        let tar = regsim_wire::tar::one_file_tar("Dockerfile", dockerfile);
        let Some(context_size) = self.client.context_size else {
            return Err(NotModelled::new(format!(
                "Docker CLI {}: `docker build` goes through BuildKit by default, whose output is not modelled",
                self.client.version
            )));
        };
        run.out(format!("{}\n", context_size.sending_line(tar.len() as u64)));
        // Every credential this CLI holds goes along (X-Registry-Config), for a FROM the classic
        // builder must pull.
        let mut auths = std::collections::BTreeMap::new();
        for (server, (user, password)) in &self.logins {
            auths.insert(
                server.clone(),
                AuthConfig {
                    username: user.clone(),
                    password: password.clone(),
                    serveraddress: server.clone(),
                    ..Default::default()
                },
            );
        }
        let registry_config = regsim_wire::engine_api::encode_registry_config(&auths);
        match self.engine.build(dockerfile, &tag, &registry_config).await {
            Ok(stream) => run.stream(&stream),
            Err(e) => run.daemon_error(e)?,
        }
        Ok(run)
    }

    /// `docker tag SOURCE TARGET`.
    pub async fn tag(&mut self, args: &[String]) -> Result<CliRun, NotModelled> {
        self.reachable("tag")?;
        self.tls_leg_failed("tag", "")?;
        let mut run = CliRun::default();
        let p = positional(args, &[]);
        let [source, target] = p.as_slice() else {
            return Err("expected `docker tag SOURCE TARGET`".into());
        };
        let t = Reference::parse(target).map_err(|e| NotModelled::new(e.to_string()))?;
        if let Err(e) = self
            .engine
            .tag_image(source, &t.familiar_name(), &t.tag_or_latest())
            .await
        {
            run.daemon_error(e)?;
        }
        Ok(run)
    }

    /// `docker pull NAME[:TAG]` (18.09 →, docker/cli cli/command/image/pull.go at v18.09.7,
    /// v19.03.0, v20.10.24, v28.2.2): `Using default tag: latest` for a name without a tag, the
    /// daemon's progress stream, then from 19.03 the full reference on its own line. The
    /// credentials are those config.json (or 28.3's DOCKER_AUTH_CONFIG) holds for the registry.
    pub async fn pull(&mut self, args: &[String]) -> Result<CliRun, NotModelled> {
        self.reachable("pull")?;
        self.tls_leg_failed("pull", "")?;
        let v = self.client.version.clone();
        if v < semver::Version::new(18, 9, 0) {
            return Err(NotModelled::new(format!(
                "Docker CLI {v}: `docker pull` is read from 18.09 on"
            )));
        }
        let mut run = CliRun::default();
        let p = positional(args, &[]);
        let ([name], true) = (p.as_slice(), p.len() == args.len()) else {
            return Err("only `docker pull NAME[:TAG]` (no flags) is simulated".into());
        };
        let r = Reference::parse(name).map_err(|e| NotModelled::new(e.to_string()))?;
        if r.digest.is_some() {
            return Err("`docker pull` by digest is not simulated".into());
        }
        if r.tag.is_none() {
            run.out("Using default tag: latest\n");
        }
        let header = AuthConfig::encode(Some(&self.config_auth(&r)?.unwrap_or_default()));
        let tag = r.tag_or_latest();
        match self.engine.pull_image(&r.familiar_name(), &tag, &header).await {
            Ok(stream) => {
                run.stream(&stream);
                if stream.error.is_none() && v >= semver::Version::new(19, 3, 0) {
                    // reference.Named's String(): the normalized name, Docker Hub's included.
                    run.out(format!("{}/{}:{tag}\n", r.domain, r.path));
                }
            }
            Err(e) => run.daemon_error(e)?,
        }
        Ok(run)
    }

    /// What config.json (or 28.3's DOCKER_AUTH_CONFIG) gives for the image's registry.
    fn config_auth(&self, r: &Reference) -> Result<Option<AuthConfig>, NotModelled> {
        Ok(self
            .env_login(&r.registry_host())?
            .or_else(|| self.logins.get(&r.registry_host()).cloned())
            .map(|(u, p)| AuthConfig {
                username: u.clone(),
                password: p.clone(),
                serveraddress: r.registry_host(),
                ..Default::default()
            }))
    }

    /// `docker push NAME[:TAG]`, with the credentials this CLI release sends.
    pub async fn push(&mut self, args: &[String]) -> Result<CliRun, NotModelled> {
        self.reachable("push")?;
        if let Some(run) = self.tls_leg_failed("push", "")? {
            return Ok(run);
        }
        let mut run = CliRun::default();
        let p = positional(args, &[]);
        let [name] = p.as_slice() else {
            return Err("expected `docker push NAME`".into());
        };
        let r = Reference::parse(name).map_err(|e| NotModelled::new(e.to_string()))?;
        let auth = match self.client.push_credentials {
            PushCredentials::FromConfigFile => self.config_auth(&r)?,
            PushCredentials::NoneUsable => None,
        };
        // The CLI's own encoding (base64 URL alphabet of the JSON; `{}` with nothing).
        let header = AuthConfig::encode(Some(&auth.unwrap_or_default()));
        let tag = r.tag.clone().unwrap_or_default();
        match self.engine.push_image(&r.familiar_name(), &tag, &header).await {
            Ok(stream) => run.stream(&stream),
            Err(e) => run.daemon_error(e)?,
        }
        Ok(run)
    }
}
