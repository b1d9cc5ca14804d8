//! Scenario files: a GitLab instance, a job and the machines that run it, written in the words of
//! `.gitlab-ci.yml` and GitLab's settings pages. This module only reads them; `world` gives them
//! meaning.

pub mod cause;
mod input;
mod load;
mod locate;
pub mod printable;
mod shapes;
mod structure;

pub use load::{ScenarioError, check_fix_scenario, load_bytes, load_file, load_str};
pub use locate::locate;

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// One paragraph: what this scenario teaches.
    pub description: String,
    /// The public post it reproduces, by number (`001`; see `seeds`), if any.
    #[serde(default)]
    pub seed: Option<String>,
    /// The scenario clock (RFC 3339). Every timestamp in tokens and logs derives from it.
    #[serde(default)]
    pub clock: Option<String>,
    pub gitlab: Gitlab,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub projects: Vec<Project>,
    #[serde(default)]
    pub tokens: Vec<Token>,
    /// Registries that are not GitLab's (a company registry with htpasswd users, say).
    #[serde(default)]
    pub registries: Vec<Registry>,
    /// Docker Hub, the Dependency Proxy's upstream: its images and the pull rate limit.
    #[serde(default)]
    pub docker_hub: Option<DockerHubSpec>,
    pub job: Job,
    pub runner: Runner,
    /// The Docker daemon the docker-family and shell executors use (not the kubernetes executor's:
    /// its node is `kubernetes:`).
    #[serde(default)]
    pub docker: Option<Docker>,
    /// The cluster the kubernetes executor creates the build pod in: the node's kubelet and
    /// containerd, and the Secrets of the job's namespace.
    #[serde(default)]
    pub kubernetes: Option<KubernetesSpec>,
    pub expect: Expect,
    /// How to fix what this failing scenario shows, in the words of GitLab's settings pages
    /// (`regsim diagnose` quotes it for a log that matches this scenario).
    #[serde(default)]
    pub fix: Option<FixSpec>,
}

/// `fix: { text: …, scenario: FILE }`: the fix in GitLab's UI terms and, optionally, the scenario
/// (a path relative to this file's directory) where it is applied and the job succeeds.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixSpec {
    pub text: String,
    #[serde(default)]
    pub scenario: Option<String>,
    /// What the fix addresses (`cause::CauseKind`, kebab-case: `job-token-allowlist`, …).
    #[serde(default)]
    pub cause: Option<cause::CauseKind>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gitlab {
    pub version: String,
    /// e.g. `https://gitlab.example.com`
    pub external_url: String,
    /// Container registry `host[:port]` (`registry.host_port` of gitlab.yml).
    pub registry: String,
    /// The certificate of `external_url`'s host: public-ca (default for https), private-ca,
    /// self-signed, expired, missing-intermediate, other-name:NAME[,NAME…].
    #[serde(default)]
    pub certificate: Option<String>,
    /// The registry's certificate, in the same words, or plain-http (default: public-ca; plain-http
    /// on 127.0.0.0/8).
    #[serde(default)]
    pub registry_certificate: Option<String>,
    /// Admin > Settings > CI/CD > Container Registry > Authorization token duration (minutes).
    #[serde(default)]
    pub registry_token_expire_minutes: Option<u64>,
    /// `registry.issuer` of gitlab.yml (Omnibus default `omnibus-gitlab-issuer`).
    #[serde(default)]
    pub registry_issuer: Option<String>,
    /// Admin > Settings > CI/CD > Job token permissions > "Enable and enforce job token allowlist
    /// for all projects". Left out: what the release does by default.
    #[serde(default)]
    pub enforce_job_token_allowlist: Option<bool>,
    /// `dependency_proxy.enabled` of gitlab.yml (default true).
    #[serde(default)]
    pub dependency_proxy: Option<bool>,
    /// The subscription: `free` (the default; also an EE instance without a license), `premium`
    /// or `ultimate`. Only the Dependency Proxy before 13.6, a Premium feature then, depends on it.
    #[serde(default)]
    pub license: Option<License>,
    /// Feature flags set away from their default (`Feature.enable`/`disable`), e.g.
    /// `dependency_proxy_for_private_groups: false` (13.7 – 14.x).
    #[serde(default)]
    pub feature_flags: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum License {
    Free,
    Premium,
    Ultimate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Private,
    Internal,
    Public,
}

/// Settings > General > Visibility > Container registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryAccess {
    /// "Everyone with access"
    Enabled,
    /// "Only project members"
    Private,
    Disabled,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub two_factor: bool,
    #[serde(default)]
    pub admin: bool,
    /// Admin > Users: `active` (the default) or `blocked`.
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub path: String,
    #[serde(default = "private")]
    pub visibility: Visibility,
    /// username → role
    #[serde(default)]
    pub members: BTreeMap<String, Role>,
    /// Settings > Packages and registries > Dependency Proxy > "Enable Proxy" (default on).
    #[serde(default)]
    pub dependency_proxy: Option<bool>,
    /// Settings > SAML SSO (top-level groups, Premium).
    #[serde(default)]
    pub saml_sso: Option<SamlSso>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlSso {
    /// "Enforce SSO-only authentication for Git and Dependency Proxy activity for this group".
    pub enforce_for_git_and_dependency_proxy: bool,
    /// Users who signed in through the group's SSO recently (an active SSO session).
    #[serde(default)]
    pub active_sessions: Vec<String>,
}

fn private() -> Visibility {
    Visibility::Private
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub path: String,
    #[serde(default = "private")]
    pub visibility: Visibility,
    /// The GitLab release the project was created on.
    pub created_in: String,
    #[serde(default)]
    pub container_registry: Option<RegistryAccess>,
    /// username → role
    #[serde(default)]
    pub members: BTreeMap<String, Role>,
    /// Settings > CI/CD > Job token permissions (the inbound allowlist).
    #[serde(default)]
    pub job_token_allowlist: Option<Allowlist>,
    /// Images in this project's container registry, `path:tag` under the registry host.
    #[serde(default)]
    pub images: Vec<StoredImageSpec>,
    /// Settings > CI/CD > Variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// The names among `variables` whose Type is File (the runner writes the value to a file and
    /// the variable holds its path).
    #[serde(default)]
    pub file_variables: Vec<String>,
    /// The names among `variables` with "Expand variable reference" turned off (sent as
    /// `raw: true`; the runner leaves `$` in them alone).
    #[serde(default)]
    pub raw_variables: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// "Limit access to this project". Left out: the default for the project's age.
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A docker/distribution registry that is not GitLab's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// `host[:port]` as written in image names.
    pub host: String,
    /// `distribution` (the default: upstream distribution, see `auth`), `harbor`, `nexus`,
    /// `quay` (each with its own token service and texts), or `ecr` (Basic auth for `AWS` and a
    /// token from the credential helper).
    #[serde(default)]
    pub kind: Option<String>,
    /// distribution only: `basic` (htpasswd users) or `none` (anonymous pulls).
    #[serde(default)]
    pub auth: Option<String>,
    /// harbor, nexus, quay: projects anyone may pull from (Harbor's public projects, Quay's public
    /// repositories, Nexus's anonymous access), as path prefixes.
    #[serde(default)]
    pub public: Vec<String>,
    /// harbor, nexus, quay: what answers at the token service's URL, `service` (the default) or
    /// `html:STATUS` — a reverse proxy's HTML page with that status (200 for a login page).
    #[serde(default)]
    pub token_service: Option<String>,
    /// ecr: passwords (authorization tokens) that have expired.
    #[serde(default)]
    pub expired_passwords: Vec<String>,
    /// Its certificate, as `gitlab.registry_certificate` (default public-ca; plain-http on
    /// 127.0.0.0/8).
    #[serde(default)]
    pub certificate: Option<String>,
    /// The htpasswd realm (`auth.htpasswd.realm` of the registry's config).
    #[serde(default)]
    pub realm: Option<String>,
    /// htpasswd users: name → password.
    #[serde(default)]
    pub users: BTreeMap<String, String>,
    /// Images it holds, `path:tag`.
    #[serde(default)]
    pub images: Vec<StoredImageSpec>,
}

/// An image a registry holds: `path:tag`, or `{name: path:tag, layers: N}` (default one layer).
/// Read by `shapes` (a name or a mapping).
#[derive(Debug, Clone)]
pub enum StoredImageSpec {
    Name(String),
    Full(StoredImageFull),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredImageFull {
    pub name: String,
    #[serde(default = "one")]
    pub layers: usize,
    /// Docker Hub only: a multi-platform image (a manifest list), e.g. `[linux/amd64, linux/arm64/v8]`.
    #[serde(default)]
    pub platforms: Vec<String>,
}

fn one() -> usize {
    1
}

impl StoredImageSpec {
    pub fn name(&self) -> &str {
        match self {
            StoredImageSpec::Name(n) => n,
            StoredImageSpec::Full(f) => &f.name,
        }
    }
    pub fn layers(&self) -> usize {
        match self {
            StoredImageSpec::Name(_) => 1,
            StoredImageSpec::Full(f) => f.layers,
        }
    }
    pub fn platforms(&self) -> &[String] {
        match self {
            StoredImageSpec::Name(_) => &[],
            StoredImageSpec::Full(f) => &f.platforms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    PersonalAccessToken,
    ProjectAccessToken,
    GroupAccessToken,
    DeployToken,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    pub kind: TokenKind,
    pub name: String,
    /// The secret itself, as it would be pasted.
    pub value: String,
    /// Owner of a personal access token.
    #[serde(default)]
    pub user: Option<String>,
    /// Project of a project access token or project deploy token.
    #[serde(default)]
    pub project: Option<String>,
    /// Group of a group access token or group deploy token.
    #[serde(default)]
    pub group: Option<String>,
    /// Role of a project or group access token's bot user.
    #[serde(default)]
    pub role: Option<Role>,
    pub scopes: Vec<String>,
    /// Expiry date (YYYY-MM-DD); the token stops working on that day.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    /// Deploy token username (default `gitlab+deploy-token-<n>`).
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub project: String,
    /// The user who triggered the pipeline.
    pub user: String,
    /// `image:` as in .gitlab-ci.yml.
    pub image: ImageSpec,
    /// `variables:` as in .gitlab-ci.yml.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// `services:` as in .gitlab-ci.yml (`- postgres:15` or `- name: …` with `alias:`).
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// `script:` as in .gitlab-ci.yml. Only `docker login|pull|build|tag|push` lines are run, by
    /// the job image's Docker CLI through the runner host's socket.
    #[serde(default)]
    pub script: Vec<String>,
    /// The Docker CLI installed in the job image (e.g. CentOS 7's `docker` package: 1.13.1).
    #[serde(default)]
    pub docker_client: Option<String>,
    /// The podman the job image has, when the script runs `podman …` (e.g. "4.3.1").
    #[serde(default)]
    pub podman: Option<String>,
    /// The buildah the job image has, when the script runs `buildah …` (e.g. "1.28.2").
    #[serde(default)]
    pub buildah: Option<String>,
    /// The kaniko release of the job image (`gcr.io/kaniko-project/executor:vX-debug`), when the
    /// script runs `/kaniko/executor` (e.g. "1.23.2").
    #[serde(default)]
    pub kaniko: Option<String>,
    /// The Dockerfile `docker build` reads (only `FROM image` is modelled).
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// The pipeline runs this job again and again on the same runner host, e.g. a schedule every
    /// 5 minutes: `{ every_minutes: 5, times: 72 }`. The log shown is the last run's.
    #[serde(default)]
    pub repeat: Option<RepeatSpec>,
    /// The job's sbt project publishes with sbt-native-packager's DockerPlugin (`sbt docker:publish`).
    #[serde(default)]
    pub sbt_native_packager: Option<SbtNativePackagerSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatSpec {
    pub every_minutes: u32,
    pub times: u32,
}

/// The DockerPlugin settings as a build.sbt would set them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SbtNativePackagerSpec {
    /// The plugin release (`addSbtPlugin("com.typesafe.sbt" % "sbt-native-packager" % "1.3.5")`).
    pub version: String,
    /// `dockerAlias` as `REPOSITORY/NAME:VERSION`; CI variables expand (build.sbt reading `sys.env`).
    pub docker_alias: String,
    /// `dockerBaseImage`. regsim's builder models only the generated Dockerfile's `FROM` line, of
    /// an image the host daemon already holds.
    pub docker_base_image: String,
}

/// Read by `shapes` (a name or a mapping).
#[derive(Debug, Clone)]
pub enum ServiceSpec {
    Name(String),
    Full(ServiceFull),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFull {
    pub name: String,
    #[serde(default)]
    pub alias: Option<String>,
}

impl ServiceSpec {
    pub fn name(&self) -> &str {
        match self {
            ServiceSpec::Name(n) => n,
            ServiceSpec::Full(f) => &f.name,
        }
    }
    pub fn alias(&self) -> Option<&str> {
        match self {
            ServiceSpec::Name(_) => None,
            ServiceSpec::Full(f) => f.alias.as_deref(),
        }
    }
}

/// Read by `shapes` (a name or a mapping).
#[derive(Debug, Clone)]
pub enum ImageSpec {
    Name(String),
    Full(ImageFull),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFull {
    pub name: String,
    #[serde(default)]
    pub pull_policy: Option<PullPolicies>,
}

/// `path:tag` as `images:` entries write them (no registry: the registry is the list's owner):
/// the repository and the tag after the last `:`, neither empty of a path, the tag without `/`.
pub fn repository_and_tag(written: &str) -> Option<(&str, &str)> {
    written
        .rsplit_once(':')
        .filter(|(r, t)| !r.is_empty() && !r.ends_with('/') && !t.contains('/'))
}

/// Read by `shapes` (a name or a mapping).
#[derive(Debug, Clone)]
pub enum PullPolicies {
    One(String),
    Many(Vec<String>),
}

impl PullPolicies {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            PullPolicies::One(p) => vec![p.clone()],
            PullPolicies::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runner {
    pub version: String,
    #[serde(default = "docker_executor")]
    pub executor: String,
    /// `[[runners]] name`
    #[serde(default)]
    pub name: Option<String>,
    /// The runner authentication token (`glrt-…` or legacy).
    #[serde(default)]
    pub token: Option<String>,
    /// `/etc/machine-id` of the runner host, for the system ID.
    #[serde(default)]
    pub machine_id: Option<String>,
    /// The runner's stored system ID (`.runner_system_id` beside config.toml, 15.8 →): `s_…` is
    /// derived from the machine ID; a runner without one (in a container, usually) made
    /// `r_` + 12 random characters, which the scenario states here.
    #[serde(default)]
    pub system_id: Option<String>,
    /// `[runners.docker] pull_policy`
    #[serde(default)]
    pub pull_policy: Option<PullPolicies>,
    /// `[runners.docker] allowed_pull_policies` (15.1 →; default: the runner's `pull_policy`).
    #[serde(default)]
    pub allowed_pull_policies: Option<PullPolicies>,
    /// The runner host's `~/.docker/config.json`, verbatim.
    #[serde(default)]
    pub docker_config: Option<String>,
    /// Home directory of the runner process (where `.docker/config.json` is read).
    #[serde(default)]
    pub home: Option<String>,
    /// `[runners.docker] dns`: the job containers' DNS servers (they answer lookups of names that
    /// are not service links). On a shell runner, the host's own resolver (the first
    /// `nameserver` of its /etc/resolv.conf), which the job's commands ask.
    #[serde(default)]
    pub dns: Vec<String>,
    /// `[runners.docker] volumes`: paths (or `host:container` binds) every job's containers get,
    /// e.g. `/certs/client`, which a dind service and the job share for its TLS certificates.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// `[[runners]] environment`: `NAME=value` entries the runner adds to every job's variables
    /// (DOCKER_AUTH_CONFIG among them); a job's own variable of the same name wins.
    #[serde(default)]
    pub environment: Vec<String>,
    /// Credential helpers installed on the runner host (`docker-credential-NAME` on its `$PATH`):
    /// `NAME: {credentials: {SERVER: "user:secret"}}`, or `NAME: {fails: TEXT}` for one that prints
    /// TEXT and exits 1. A helper named in a config but absent here is not installed.
    #[serde(default)]
    pub credential_helpers: BTreeMap<String, CredentialHelperSpec>,
    /// docker-autoscaler: the instance's id as the fleeting plugin names it (default
    /// `i-0a1b2c3d4e5f60718`, an AWS-style id).
    #[serde(default)]
    pub instance_id: Option<String>,
    /// `[runners.kubernetes]` of config.toml, for the kubernetes executor.
    #[serde(default)]
    pub kubernetes: Option<RunnerKubernetes>,
    /// `[runners.feature_flags]` of config.toml (13.11 →): `FF_NAME: true|false`, which win over
    /// job variables of the same name.
    #[serde(default)]
    pub feature_flags: BTreeMap<String, bool>,
}

/// `[runners.kubernetes]`: where the build pod goes and the pull secrets it names, and what
/// the scenario must state about timing (the apiserver's random pod-name suffix, which
/// container state the runner's poll meets).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerKubernetes {
    /// `namespace` (default `default`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// `image_pull_secrets`: Secret names in the namespace, added to the pod's imagePullSecrets.
    #[serde(default)]
    pub image_pull_secrets: Vec<String>,
    /// `poll_timeout` in seconds (default 180).
    #[serde(default)]
    pub poll_timeout: Option<u64>,
    /// The eight characters the runner appends to the pod's name (random in a real runner;
    /// default `k3j9x0qa`).
    #[serde(default)]
    pub pod_suffix: Option<String>,
    /// How many of the runner's polls (every 3 s) find the pod pending before one meets the
    /// failed pull (default 1: a timing, stated by the scenario).
    #[serde(default)]
    pub pending_polls: Option<u32>,
    /// What the runner's poll meets once the kubelet's pull has failed: `ErrImagePull` (the
    /// pull's own error, the default) or `ImagePullBackOff` (the kubelet already backing off).
    #[serde(default)]
    pub sees: Option<String>,
    /// `privileged`: the pod's containers run privileged (a dind service needs it).
    #[serde(default)]
    pub privileged: bool,
}

/// `kubernetes:`: the node the build pod lands on and the namespace's Secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSpec {
    /// The kubelet's Kubernetes release (`1.27.3`).
    pub version: String,
    /// The node's containerd (the CRI runtime; `1.6.20`).
    pub containerd: String,
    /// The node's platform (`linux/arm64`); linux/amd64 when left out.
    #[serde(default)]
    pub platform: Option<String>,
    /// The build pod's nameservers: the cluster DNS service's address (`10.96.0.10` on a kubeadm
    /// cluster), which answers names that are not the pod's hostAliases.
    #[serde(default)]
    pub dns: Vec<String>,
    /// Secrets of type `kubernetes.io/dockerconfigjson` in the job's namespace: name →
    /// the `.dockerconfigjson` document, verbatim.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialHelperSpec {
    /// What `get` answers per server URL, `user:secret`; any other server gets "not found".
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    /// The helper fails every call, printing this.
    #[serde(default)]
    pub fails: Option<String>,
}

fn docker_executor() -> String {
    "docker".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Docker {
    /// dockerd version on the runner host.
    pub version: String,
    /// `graphdriver` or `containerd` (Docker 29's default on fresh installs).
    #[serde(default)]
    pub image_store: Option<String>,
    /// How long the daemon takes to answer a pull, in whole seconds (the runner prints it in its
    /// `(file.go:LINE:Ns)` suffix). Default 0: the mocks answer at once.
    #[serde(default)]
    pub pull_seconds: u64,
    /// The runner host's platform (`linux/arm64/v8`); default `linux/amd64`.
    #[serde(default)]
    pub platform: Option<String>,
    /// Directories of `/etc/docker/certs.d/` (`host[:port]`), each holding the `ca.crt` that
    /// vouches for the server of that host.
    #[serde(default)]
    pub certs_d: Vec<String>,
    /// `insecure-registries` of `/etc/docker/daemon.json`.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// The instance's CA is in the runner host's system store (`update-ca-certificates`).
    #[serde(default)]
    pub ca_in_system_store: bool,
}

impl Docker {
    /// The daemon a world without one carries (the kubernetes executor's): never asked.
    pub fn unused() -> Docker {
        Docker {
            version: "20.10.24".into(),
            image_store: None,
            pull_seconds: 0,
            platform: None,
            certs_d: Vec::new(),
            insecure_registries: Vec::new(),
            ca_in_system_store: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeds,
    Fails,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Outcome,
    /// Lines that must appear, whole, in the job log.
    #[serde(default)]
    pub lines: Vec<String>,
    /// Edits a seed post made to its own lines (hidden hosts, layer ids, secrets): each log line
    /// is compared with `lines` after the same edits. Reports and snapshots keep the unedited log.
    #[serde(default)]
    pub post_redactions: Vec<RedactionSpec>,
    /// Lines of the post that the log cannot contain, each with the reason; reports list them.
    #[serde(default)]
    pub not_reproduced: Vec<NotReproducedSpec>,
}

/// Docker Hub as the Dependency Proxy sees it (anonymous pulls from GitLab's address).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerHubSpec {
    /// `alpine:latest` (the `library/` namespace is implied, as on Docker Hub) or `{name, layers}`.
    #[serde(default)]
    pub images: Vec<StoredImageSpec>,
    /// Manifest GETs allowed per 6-hour window for GitLab's address (anonymous: 100).
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Manifest GETs already counted in the current window when the scenario starts, for GitLab's
    /// address (the Dependency Proxy's pulls).
    #[serde(default)]
    pub pulls_used: Option<u32>,
    /// The same for the runner host's address (its own pulls straight from the Hub).
    #[serde(default)]
    pub runner_host_pulls_used: Option<u32>,
    /// Docker Hub accounts: username → password or personal access token (`dckr_pat_…`).
    #[serde(default)]
    pub accounts: BTreeMap<String, String>,
    /// Pulls each account has made in the current window (an account's limit is its own).
    #[serde(default)]
    pub account_pulls_used: BTreeMap<String, u32>,
    /// Accounts Docker Hub has locked for a while after too many failed logins.
    #[serde(default)]
    pub locked_accounts: Vec<String>,
    /// Private repositories (`acme/build-tools`): only the account named like their namespace
    /// may pull them (organisations and teams are not modelled).
    #[serde(default)]
    pub private: Vec<String>,
}

/// `{replace: TEXT, with: TEXT}` or `{pattern: REGEX, with: TEXT}` (regex crate syntax, `$1` in `with`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionSpec {
    #[serde(default)]
    pub replace: Option<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    pub with: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotReproducedSpec {
    pub line: String,
    pub why: String,
}
