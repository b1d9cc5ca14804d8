//! The world model: a scenario checked and given meaning. Defaults the scenario leaves out are
//! derived here from the release tables, and every derived value remembers the rule that gave it
//! so the output can say why.

mod loopback;
mod sections;
pub mod tls;

pub use tls::{Certificate, DaemonTls};

pub use sections::{DEFAULT_CLOCK, build};

/// A tool of the job image whose release the scenario must name once the script runs it
/// (`job.docker_client`, `job.podman`, `job.buildah`, `job.kaniko`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobTool {
    /// The Docker CLI (also run by sbt's DockerPlugin).
    DockerCli,
    Podman,
    Buildah,
    Kaniko,
}

impl JobTool {
    pub const ALL: [JobTool; 4] = [JobTool::DockerCli, JobTool::Podman, JobTool::Buildah, JobTool::Kaniko];

    /// The scenario's field under `job:` that names the release.
    pub fn field(self) -> &'static str {
        match self {
            JobTool::DockerCli => "docker_client",
            JobTool::Podman => "podman",
            JobTool::Buildah => "buildah",
            JobTool::Kaniko => "kaniko",
        }
    }

    /// The tool's name, as a script line calls it.
    pub fn command(self) -> &'static str {
        match self {
            JobTool::DockerCli => "docker",
            JobTool::Podman => "podman",
            JobTool::Buildah => "buildah",
            JobTool::Kaniko => "kaniko",
        }
    }

    /// Whether a script line runs the tool.
    pub fn runs_in(self, line: &str) -> bool {
        let l = line.trim_start();
        match self {
            JobTool::DockerCli => l.starts_with("docker ") || l.starts_with("sbt "),
            JobTool::Podman => l.starts_with("podman "),
            JobTool::Buildah => l.starts_with("buildah "),
            JobTool::Kaniko => l.starts_with("/kaniko/executor"),
        }
    }

    /// Whether any of `script`'s lines runs the tool.
    pub fn runs(self, script: &[String]) -> bool {
        script.iter().any(|l| self.runs_in(l))
    }
}

/// Versions given on the command line, in place of the scenario's (`--gitlab`, `--runner`,
/// `--docker`, and `regsim matrix`'s rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub gitlab: Option<Version>,
    pub runner: Option<Version>,
    pub docker: Option<Version>,
}

use crate::scenario::{Outcome, RegistryAccess, Role, TokenKind, Visibility};
use crate::versions::docker::{EngineProfile, ImageStore};
use crate::versions::gitlab::GitlabRelease;
use crate::versions::runner::RunnerRelease;
use semver::Version;
use std::collections::BTreeMap;
use std::fmt;
use time::{Date, OffsetDateTime};

/// A value the scenario did not set, with the rule that decided it.
#[derive(Debug, Clone)]
pub struct Derived<T> {
    pub value: T,
    /// The rule in GitLab's words, or `None` when the scenario set the value itself.
    pub rule: Option<String>,
}

impl<T> Derived<T> {
    pub fn explicit(value: T) -> Self {
        Derived { value, rule: None }
    }
    pub fn by_rule(value: T, rule: impl Into<String>) -> Self {
        Derived {
            value,
            rule: Some(rule.into()),
        }
    }
}

/// `host[:port]` as it appears in image names and `auths` keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Authority {
    pub host: String,
    pub port: Option<u16>,
}

impl Authority {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.contains('/') || s.contains("://") {
            return Err(format!("`{s}` is not host[:port]"));
        }
        match s.rsplit_once(':') {
            Some((h, p)) => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("`{s}`: port `{p}` is not a number"))?;
                Ok(Authority {
                    host: h.to_string(),
                    port: Some(port),
                })
            }
            None => Ok(Authority {
                host: s.to_string(),
                port: None,
            }),
        }
    }
    /// The port a client dials when none is written.
    pub fn port_or(&self, default: u16) -> u16 {
        self.port.unwrap_or(default)
    }
    /// Registries on 127.0.0.0/8 are insecure by default: dockerd tries https, then http.
    pub fn is_loopback(&self) -> bool {
        self.host
            .parse::<std::net::Ipv4Addr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
            || self.host == "localhost"
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{}", self.host, p),
            None => write!(f, "{}", self.host),
        }
    }
}

/// The GitLab instance.
#[derive(Debug, Clone)]
pub struct Instance {
    pub version: Version,
    pub release: GitlabRelease,
    /// Scheme, host and port of `external_url`.
    pub scheme: String,
    pub host: Authority,
    pub registry: Authority,
    /// The certificate of `external_url`'s host (where the registry's token realm is).
    pub certificate: Certificate,
    pub registry_certificate: Certificate,
    pub registry_enabled: bool,
    pub token_expire_minutes: u64,
    pub issuer: String,
    pub enforce_allowlist: Derived<bool>,
    pub dependency_proxy: bool,
    /// How this release's Dependency Proxy answers, the feature flag and license applied.
    pub proxy_era: Derived<crate::versions::gitlab::ProxyEra>,
    /// Before 13.6 the proxy needs GitLab Premium; false when it is missing here.
    pub proxy_licensed: bool,
}

impl Instance {
    pub fn external_url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
    /// `Gitlab.host_with_port`: always with the port (gitlab-rails.md §6.2).
    pub fn host_with_port(&self) -> String {
        let default = if self.scheme == "https" { 443 } else { 80 };
        format!("{}:{}", self.host.host, self.host.port_or(default))
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub password: Option<String>,
    pub two_factor: bool,
    pub admin: bool,
    /// Project and group access tokens act as bot users (gitlab-rails.md §3.3).
    pub bot: bool,
    /// Blocked by an administrator: cannot log in, so neither its password, its personal access
    /// tokens nor the job tokens of its pipelines authenticate (gitlab-rails.md §1.3).
    pub blocked: bool,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub path: String,
    pub visibility: Visibility,
    pub members: BTreeMap<String, Role>,
    /// The group's Dependency Proxy setting ("Enable Proxy").
    pub dependency_proxy: Derived<bool>,
    /// SAML SSO enforced for Git and Dependency Proxy activity: who has an active SSO session.
    pub sso_enforced_for_dependency_proxy: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    pub path: String,
    pub visibility: Visibility,
    pub created_in: Version,
    pub registry_access: Derived<RegistryAccess>,
    pub members: BTreeMap<String, Role>,
    /// The project's own "Limit access to this project" column (before instance enforcement).
    pub inbound_allowlist: Derived<bool>,
    pub allowlist_projects: Vec<String>,
    pub allowlist_groups: Vec<String>,
    pub images: Vec<StoredImage>,
    pub variables: BTreeMap<String, String>,
    /// Names of `variables` of Type File.
    pub file_variables: std::collections::BTreeSet<String>,
    /// Variables with "Expand variable reference" off (`raw: true` in the job payload).
    pub raw_variables: std::collections::BTreeSet<String>,
}

impl Project {
    /// Groups this project sits in, innermost last (`a`, `a/b` for `a/b/proj`).
    pub fn ancestor_groups(&self) -> Vec<String> {
        let parts: Vec<&str> = self.path.split('/').collect();
        (1..parts.len()).map(|n| parts[..n].join("/")).collect()
    }
}

/// An image a project's registry holds: repository path (lower case) and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub repository: String,
    pub tag: String,
    pub layers: usize,
    /// More than one: a manifest list (Docker Hub only). Empty: one linux/amd64 image.
    pub platforms: Vec<regsim_wire::platform::Platform>,
}

/// How a registry that is not GitLab's lets clients in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAuth {
    /// docker/distribution's htpasswd access controller.
    Basic {
        realm: String,
        users: BTreeMap<String, String>,
    },
    None,
    /// A product with its own token service and texts (`registries[].kind`).
    Product {
        product: Product,
        users: BTreeMap<String, String>,
        /// Projects (first path component, or a longer prefix) anyone may pull.
        public: Vec<String>,
        /// What answers at the token service's URL.
        token_service: TokenServiceFront,
    },
    /// Amazon ECR: Basic auth, user `AWS`, the password a 12-hour token from the credential helper.
    Ecr {
        users: BTreeMap<String, String>,
        /// Tokens that were issued and have expired.
        expired: Vec<String>,
    },
}

impl RegistryAuth {
    /// Accounts and their passwords, where the registry has accounts.
    pub fn accounts(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            RegistryAuth::Basic { users, .. }
            | RegistryAuth::Product { users, .. }
            | RegistryAuth::Ecr { users, .. } => Some(users),
            RegistryAuth::None => None,
        }
    }

    pub fn public_projects(&self) -> &[String] {
        match self {
            RegistryAuth::Product { public, .. } => public,
            _ => &[],
        }
    }
}

/// What answers at a product's token-service URL: the service itself, or a reverse proxy's HTML
/// page with this status (a login page, a 404 or a 502 of the proxy in front of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenServiceFront {
    Service,
    HtmlPage(u16),
}

/// Registry products with a token service of their own (docs/research/registries-identities.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// Harbor 2.x: core's `v2auth` middleware in front of distribution (§2).
    Harbor,
    /// Sonatype Nexus Repository's Docker connector with the Docker Bearer Token Realm (§3).
    Nexus,
    /// Quay (project Quay / quay.io, §4.1).
    Quay,
}

impl Product {
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Harbor => "harbor",
            Product::Nexus => "nexus",
            Product::Quay => "quay",
        }
    }
}

/// Docker Hub, upstream of the Dependency Proxy.
#[derive(Debug, Clone)]
pub struct DockerHub {
    /// Repositories as Docker Hub names them (`library/alpine`).
    pub images: Vec<StoredImage>,
    /// Manifest GETs per 6-hour window for one address.
    pub rate_limit: u32,
    /// Counted for GitLab's address (the Dependency Proxy).
    pub pulls_used: u32,
    /// Counted for the runner host's address (its own pulls).
    pub runner_host_pulls_used: u32,
    /// Username → password or personal access token.
    pub accounts: BTreeMap<String, String>,
    /// Pulls counted for each account in the window, and the accounts' limit.
    pub account_pulls_used: BTreeMap<String, u32>,
    pub account_rate_limit: u32,
    /// Locked after too many failed logins.
    pub locked_accounts: Vec<String>,
    /// Private repositories, as Docker Hub names them (`acme/build-tools`).
    pub private: std::collections::BTreeSet<String>,
}

/// A docker/distribution registry that is not GitLab's.
#[derive(Debug, Clone)]
pub struct OtherRegistry {
    pub host: Authority,
    pub certificate: Certificate,
    pub auth: RegistryAuth,
    pub images: Vec<StoredImage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOwner {
    User(String),
    Project(String),
    Group(String),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub id: u64,
    pub kind: TokenKind,
    pub name: String,
    pub value: String,
    pub owner: TokenOwner,
    /// For project and group access tokens: the bot user's name and role.
    pub bot_user: Option<String>,
    pub role: Option<Role>,
    pub scopes: Vec<String>,
    pub expires_at: Option<Date>,
    pub revoked: bool,
    /// Deploy tokens log in with this username.
    pub username: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub project: String,
    pub user: String,
    /// CI_JOB_TOKEN. Its format never reaches the job log (it is masked), so regsim uses a plain
    /// deterministic value rather than guessing each release's prefix.
    pub token: String,
    /// `image:` name as written (before variable expansion, which the runner does).
    pub image: String,
    pub image_pull_policy: Option<Vec<regsim_wire::job_api::PullPolicy>>,
    /// How many times the job runs, and how many minutes apart (1 and 0 for a single run).
    pub repeat: (u32, u32),
    /// `variables:` from .gitlab-ci.yml.
    pub variables: BTreeMap<String, String>,
    /// `services:` from .gitlab-ci.yml: name (as written) and alias.
    pub services: Vec<(String, Option<String>)>,
    /// `script:` lines, as written.
    pub script: Vec<String>,
    /// The job image's Docker CLI, when the script uses one.
    pub docker_client: Option<crate::versions::docker_cli::ClientProfile>,
    /// The job image's podman and buildah, when the script runs them.
    pub podman: Option<crate::versions::containers_tools::ToolProfile>,
    pub buildah: Option<crate::versions::containers_tools::ToolProfile>,
    /// The job image's kaniko, when the script runs `/kaniko/executor`.
    pub kaniko: Option<crate::versions::kaniko::KanikoProfile>,
    pub dockerfile: Option<String>,
    /// sbt-native-packager's DockerPlugin, when the script runs `sbt docker:publish`.
    pub sbt_native_packager: Option<SbtNativePackager>,
}

/// The DockerPlugin settings of the job's sbt project (values as written, expanded at run time).
#[derive(Debug, Clone)]
pub struct SbtNativePackager {
    pub profile: crate::versions::sbt_native_packager::PluginProfile,
    /// `dockerAlias` (`REPOSITORY/NAME:VERSION`).
    pub alias: String,
    /// `dockerBaseImage`.
    pub base_image: String,
}

/// The runner's executor (`[[runners]] executor`). The loader refuses the others by name until
/// their modules exist (regsim-runner's `executors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Executor {
    Docker,
    DockerMachine,
    DockerAutoscaler,
    Kubernetes,
    Shell,
}

impl Executor {
    /// config.toml's names of the executors regsim models.
    pub fn parse(name: &str) -> Option<Executor> {
        match name {
            "docker" => Some(Executor::Docker),
            "docker+machine" => Some(Executor::DockerMachine),
            "docker-autoscaler" => Some(Executor::DockerAutoscaler),
            "kubernetes" => Some(Executor::Kubernetes),
            "shell" => Some(Executor::Shell),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Executor::Docker => "docker",
            Executor::DockerMachine => "docker+machine",
            Executor::DockerAutoscaler => "docker-autoscaler",
            Executor::Kubernetes => "kubernetes",
            Executor::Shell => "shell",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunnerHost {
    pub version: Version,
    pub release: RunnerRelease,
    pub executor: Executor,
    pub name: String,
    pub token: String,
    pub machine_id: Option<String>,
    /// A stored system ID the scenario states (`r_…` for a runner without a machine ID).
    pub system_id: Option<String>,
    pub pull_policy: Option<Vec<regsim_wire::job_api::PullPolicy>>,
    /// `allowed_pull_policies` as config.toml writes it (`None`: unset, the runner's `pull_policy`
    /// list is the allowed one).
    pub allowed_pull_policies: Option<Vec<regsim_wire::job_api::PullPolicy>>,
    pub docker_config: Option<String>,
    pub home: String,
    /// `[runners.docker] dns`.
    pub dns: Vec<String>,
    /// `[runners.docker] volumes`, as written.
    pub volumes: Vec<String>,
    /// `[[runners]] environment`, `(NAME, value)` in order.
    pub environment: Vec<(String, String)>,
    /// Helpers installed on the runner host, by the NAME of `docker-credential-NAME`.
    pub credential_helpers: BTreeMap<String, CredentialHelper>,
    /// docker-autoscaler: the instance the fleeting plugin hands out, as the dial lines name it.
    pub instance_id: String,
    /// `[runners.kubernetes]`, for the kubernetes executor.
    pub kubernetes: Option<RunnerKubernetes>,
    /// `[runners.feature_flags]`.
    pub feature_flags: BTreeMap<String, bool>,
}

/// `[runners.kubernetes]` and the timing a scenario states for it.
#[derive(Debug, Clone)]
pub struct RunnerKubernetes {
    pub namespace: String,
    /// config.toml sets `namespace` (else the executor warns and assumes `default`).
    pub namespace_written: bool,
    /// Polls that find the pod pending before the one that meets the failed pull.
    pub pending_polls: u32,
    /// `image_pull_secrets`, in order.
    pub image_pull_secrets: Vec<String>,
    /// `poll_timeout`, seconds.
    pub poll_timeout: u64,
    /// The random suffix of the pod's name as the scenario states it (its length and alphabet are
    /// the naming era's: checked when the job runs, since `regsim matrix` walks eras).
    pub pod_suffix: Option<String>,
    pub sees: WaitingReason,
    /// `[runners.kubernetes] privileged`.
    pub privileged: bool,
}

/// The kubelet's waiting reason for a container whose image it could not pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitingReason {
    ErrImagePull,
    ImagePullBackOff,
}

/// The node of a kubernetes executor's build pod, and its namespace's Secrets.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The kubelet's release.
    pub kubelet: Version,
    pub containerd: crate::versions::containerd::ContainerdProfile,
    /// `kubernetes.io/dockerconfigjson` Secrets by name: their `auths` map, key → entry, in the
    /// document's order.
    pub secrets: BTreeMap<String, Vec<(String, serde_json::Value)>>,
    /// The node's platform: what containerd picks from a manifest list.
    pub platform: regsim_wire::platform::Platform,
    /// The build pod's nameservers (the cluster DNS).
    pub dns: Vec<String>,
}

/// A credential helper on the runner host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialHelper {
    /// `get` answers these `(user, secret)` per server URL, "not found" for others.
    Answers(BTreeMap<String, (String, String)>),
    /// Every call prints this and exits 1.
    Fails(String),
}

impl RunnerHost {
    /// `GetAllowedPullPolicies`: config.toml's `allowed_pull_policies`, else its `pull_policy`,
    /// else `[always]`; with which of the three it is, in words.
    pub fn allowed_pull_policies(&self) -> (Vec<regsim_wire::job_api::PullPolicy>, &'static str) {
        match (&self.allowed_pull_policies, &self.pull_policy) {
            (Some(a), _) if !a.is_empty() => (a.clone(), "as config.toml sets it"),
            (_, Some(p)) if !p.is_empty() => (
                p.clone(),
                "config.toml sets none, so the runner's own pull_policy list (GetAllowedPullPolicies)",
            ),
            _ => (
                vec![regsim_wire::job_api::PullPolicy::Always],
                "config.toml sets neither it nor pull_policy, so the default [always] (GetAllowedPullPolicies)",
            ),
        }
    }

    /// A variable of `[[runners]] environment` (the last entry of a name wins).
    pub fn environment_variable(&self, name: &str) -> Option<&str> {
        self.environment
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct DockerHost {
    pub version: Version,
    /// Whole seconds a pull takes (`docker.pull_seconds`).
    pub pull_seconds: u64,
    /// The runner host's platform, which the engine picks from manifest lists.
    pub platform: regsim_wire::platform::Platform,
    pub store: Derived<ImageStore>,
    pub profile: EngineProfile,
    pub tls: DaemonTls,
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub outcome: Outcome,
    pub lines: Vec<String>,
    pub post_redactions: Vec<Redaction>,
    /// (line of the post, why the log cannot contain it).
    pub not_reproduced: Vec<(String, String)>,
}

/// One edit the seed post made to its lines.
#[derive(Debug, Clone)]
pub enum Redaction {
    Text { replace: String, with: String },
    Pattern { pattern: regex::Regex, with: String },
}

impl Expect {
    /// A log line as the post would show it.
    pub fn as_in_post(&self, line: &str) -> String {
        self.post_redactions.iter().fold(line.to_string(), |l, r| match r {
            Redaction::Text { replace, with } => l.replace(replace.as_str(), with),
            Redaction::Pattern { pattern, with } => pattern.replace_all(&l, with.as_str()).into_owned(),
        })
    }
}

/// A fact the output should state: which rule produced a value the scenario left out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Note(pub String);

#[derive(Debug, Clone)]
pub struct World {
    pub name: String,
    pub description: String,
    pub seed: Option<&'static crate::seeds::Seed>,
    pub clock: OffsetDateTime,
    /// The time registry JWTs are stamped with and checked against: the scenario clock, except
    /// where a real registry takes part (its Go `time.Now()` cannot be set back to a scenario's
    /// date, so tokens then carry the wall clock while GitLab's decisions keep `clock`).
    pub token_clock: OffsetDateTime,
    pub gitlab: Instance,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub projects: Vec<Project>,
    pub tokens: Vec<Token>,
    pub registries: Vec<OtherRegistry>,
    pub docker_hub: Option<DockerHub>,
    pub job: Job,
    pub runner: RunnerHost,
    /// The Docker daemon of the docker-family and shell executors. A kubernetes world has none
    /// that takes part: this one is the default, unused.
    pub docker: DockerHost,
    /// The kubernetes executor's node and Secrets.
    pub cluster: Option<Cluster>,
    pub expect: Expect,
}

impl World {
    pub fn project(&self, path: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.path.eq_ignore_ascii_case(path))
    }
    pub fn group(&self, path: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.path.eq_ignore_ascii_case(path))
    }
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == name)
    }

    /// The highest role `username` holds on `project`, directly or through its groups.
    pub fn role(&self, username: &str, project: &Project) -> Option<Role> {
        let mut best = project.members.get(username).copied();
        for g in project.ancestor_groups() {
            if let Some(r) = self.group(&g).and_then(|g| g.members.get(username)) {
                best = Some(best.map_or(*r, |b| b.max(*r)));
            }
        }
        best
    }

    /// Whether the instance-wide enforcement or the project's own setting turns the inbound
    /// allowlist on (gitlab-rails.md §4.2: `enforce || column`).
    pub fn inbound_allowlist_effective(&self, project: &Project) -> Derived<bool> {
        if self.gitlab.enforce_allowlist.value {
            let why = self.gitlab.enforce_allowlist.rule.clone().unwrap_or_else(|| {
                "the instance enforces the job token allowlist for all projects (scenario setting)".into()
            });
            return Derived::by_rule(true, why);
        }
        project.inbound_allowlist.clone()
    }

    /// What the output should say about defaults this scenario relied on.
    pub fn notes(&self) -> Vec<Note> {
        let mut out = Vec::new();
        let file_auth = self
            .project(&self.job.project)
            .is_some_and(|p| p.file_variables.contains("DOCKER_AUTH_CONFIG"));
        if file_auth {
            let table = crate::versions::runner::file_auth_config();
            if let Some(e) = crate::versions::lookup(&table, &self.runner.version) {
                let what = match e.value {
                    crate::versions::runner::FileAuthConfig::Read => "reads it as its content",
                    crate::versions::runner::FileAuthConfig::DroppedSilently => {
                        "reads it as the temporary file's path, which is no JSON, and drops it without a word"
                    }
                };
                out.push(Note(format!(
                    "DOCKER_AUTH_CONFIG is a File variable: gitlab-runner {} {what} ({})",
                    self.runner.version, e.source
                )));
            }
        }
        // allowed_pull_policies matters once something can differ from the runner's own list.
        if self.job.image_pull_policy.is_some() || self.runner.allowed_pull_policies.is_some() {
            let table = crate::versions::runner::allowed_pull_policy_check();
            if let Some(e) = crate::versions::lookup(&table, &self.runner.version)
                && e.value != crate::versions::runner::AllowedPullPolicyCheck::None
            {
                let (allowed, whence) = self.runner.allowed_pull_policies();
                out.push(Note(format!(
                    "allowed_pull_policies {} — {whence}; gitlab-runner {}: {} ({})",
                    regsim_wire::job_api::go_list(&allowed),
                    self.runner.version,
                    e.value.describe(),
                    e.source
                )));
            }
        }
        if let Some(rule) = &self.gitlab.enforce_allowlist.rule {
            out.push(Note(format!(
                "instance job token allowlist enforcement: {} — {rule}",
                on_off(self.gitlab.enforce_allowlist.value)
            )));
        }
        // The group setting matters only where something goes through the proxy.
        if self.docker_hub.is_some() {
            for g in &self.groups {
                if let Some(rule) = &g.dependency_proxy.rule {
                    out.push(Note(format!(
                        "{}: Dependency Proxy {} — {rule}",
                        g.path,
                        on_off(g.dependency_proxy.value)
                    )));
                }
            }
        }
        // The proxy's era is news only where it differs from 13.10 on (or a flag changed it).
        let era = &self.gitlab.proxy_era;
        if self.docker_hub.is_some()
            && (self.gitlab.version < crate::versions::gitlab::DEPENDENCY_PROXY_DIGESTS_AND_DOWNCASE
                || era.rule.is_none())
        {
            let e = era.value;
            let what = format!(
                "{}; manifests {}; {}{}",
                if e.authenticates {
                    "a proxy token is needed"
                } else {
                    "no authentication (anonymous; public groups only)"
                },
                match e.cache {
                    crate::versions::gitlab::ManifestCache::None => "not cached",
                    crate::versions::gitlab::ManifestCache::ByTag => "cached by tag",
                    crate::versions::gitlab::ManifestCache::ByTagOrDigest => "cached by tag or digest",
                },
                match e.reply {
                    crate::versions::gitlab::ManifestReply::RenderJson => "sent as `render json:`, no digest header",
                    crate::versions::gitlab::ManifestReply::SendFileJson =>
                        "sent as the cached .json file, no digest header",
                    crate::versions::gitlab::ManifestReply::WithDigest => "sent with their digest and content type",
                },
                if self.gitlab.proxy_licensed {
                    ""
                } else {
                    "; a GitLab Premium feature, and this instance is on Free"
                }
            );
            let rule = era.rule.clone().unwrap_or_else(|| {
                format!(
                    "feature flag {} set by the scenario",
                    crate::versions::gitlab::PRIVATE_GROUPS_FLAG
                )
            });
            out.push(Note(format!(
                "Dependency Proxy of GitLab {}: {what} — {rule}",
                self.gitlab.version
            )));
        }
        for p in &self.projects {
            if let Some(rule) = &p.inbound_allowlist.rule {
                out.push(Note(format!(
                    "{}: CI_JOB_TOKEN inbound allowlist (\"Limit access to this project\") {} — {rule}",
                    p.path,
                    on_off(p.inbound_allowlist.value)
                )));
            }
            if let (Some(rule), false) = (&p.registry_access.rule, p.images.is_empty()) {
                out.push(Note(format!(
                    "{}: container registry visibility {:?} — {rule}",
                    p.path, p.registry_access.value
                )));
            }
        }
        // The image store only became a choice with Docker 24's containerd option.
        if let (Some(rule), true) = (&self.docker.store.rule, self.docker.version.major >= 24) {
            out.push(Note(format!(
                "Docker {}: image store {:?} — {rule}",
                self.docker.version, self.docker.store.value
            )));
        }
        out
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

impl Role {
    pub fn at_least(self, other: Role) -> bool {
        self >= other
    }
}

impl PartialOrd for Role {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Role {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}
