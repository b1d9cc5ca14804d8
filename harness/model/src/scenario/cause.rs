//! What a failing scenario's fix addresses, in a small fixed vocabulary (`fix.cause`): the same
//! kinds the diagnose corpus (tests/diagnose/real/) tags real reports with, so that a diagnosis
//! can be scored against what a thread concluded, and so that causes that read alike can be
//! told apart from causes that are not authorization at all.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// The target project's CI_JOB_TOKEN inbound allowlist does not include the job's project.
    JobTokenAllowlist,
    /// A job token used to push into another project (never allowed).
    JobTokenOtherProjectPush,
    /// Nothing was sent where credentials were needed.
    NoCredentials,
    /// Credentials were sent, but wrong.
    WrongCredentials,
    /// The token or password expired or was revoked, or its user is blocked.
    ExpiredOrRevokedToken,
    /// DOCKER_AUTH_CONFIG or a config.json that does not parse or has the wrong shape.
    DockerAuthConfigFormat,
    /// A valid DOCKER_AUTH_CONFIG whose key does not match the registry as it is looked up.
    DockerAuthConfigMissingKey,
    /// A credential helper missing, failing or misconfigured.
    CredentialHelper,
    /// The repository does not exist.
    ImageDoesNotExist,
    /// The repository exists, the tag does not.
    TagDoesNotExist,
    /// Docker Hub's (or another registry's) rate limit.
    RateLimit,
    /// Certificates and TLS between a client and a registry.
    Tls,
    /// A name that does not resolve (other than a dind service's).
    Dns,
    /// The job's Docker CLI cannot reach a dind service's daemon.
    DindConnection,
    /// TLS between the job's Docker CLI and a dind service.
    DindTls,
    /// The registry answers 5xx or is down.
    RegistryDown,
    /// A role, project visibility or registry access level forbids it (not the allowlist).
    PermissionProjectVisibility,
    /// The Dependency Proxy's own settings, prefix or token.
    DependencyProxy,
    /// The wrong platform or architecture.
    PlatformMismatch,
    /// kaniko's configuration (its config.json, its flags).
    KanikoConfig,
    /// Docker CLI 28.3+ letting DOCKER_AUTH_CONFIG win over `docker login`.
    #[serde(rename = "cli-28-docker-auth-config")]
    Cli28DockerAuthConfig,
    /// None of the above.
    Other,
}

impl CauseKind {
    /// The kind as written in a scenario's `fix.cause`.
    pub fn as_str(self) -> &'static str {
        use CauseKind::*;
        match self {
            JobTokenAllowlist => "job-token-allowlist",
            JobTokenOtherProjectPush => "job-token-other-project-push",
            NoCredentials => "no-credentials",
            WrongCredentials => "wrong-credentials",
            ExpiredOrRevokedToken => "expired-or-revoked-token",
            DockerAuthConfigFormat => "docker-auth-config-format",
            DockerAuthConfigMissingKey => "docker-auth-config-missing-key",
            CredentialHelper => "credential-helper",
            ImageDoesNotExist => "image-does-not-exist",
            TagDoesNotExist => "tag-does-not-exist",
            RateLimit => "rate-limit",
            Tls => "tls",
            Dns => "dns",
            DindConnection => "dind-connection",
            DindTls => "dind-tls",
            RegistryDown => "registry-down",
            PermissionProjectVisibility => "permission-project-visibility",
            DependencyProxy => "dependency-proxy",
            PlatformMismatch => "platform-mismatch",
            KanikoConfig => "kaniko-config",
            Cli28DockerAuthConfig => "cli-28-docker-auth-config",
            Other => "other",
        }
    }

    /// What to look at, outside the log, to tell this cause from others that print the same
    /// sentences (diagnose lists it when the log alone cannot).
    pub fn how_to_tell(self) -> &'static str {
        use CauseKind::*;
        match self {
            JobTokenAllowlist => {
                "the image's project: Settings > CI/CD > Job token permissions — is the job's project allowed?"
            }
            JobTokenOtherProjectPush => "the push's target: a job token pushes only to its own project",
            NoCredentials => {
                "the job log's `Authenticating with credentials from …` line (none means no credentials were found) \
                 and whether the job's script logs in before it pulls or pushes"
            }
            WrongCredentials => "log in by hand with the same user and secret (docker login) and see whether it works",
            ExpiredOrRevokedToken => "the token's expiry and revocation on its Access Tokens or Deploy tokens page",
            DockerAuthConfigFormat => "DOCKER_AUTH_CONFIG parsed as JSON, and each `auth` as base64 of `user:password`",
            DockerAuthConfigMissingKey => {
                "DOCKER_AUTH_CONFIG's keys against the image's registry `host[:port]`, character for character"
            }
            CredentialHelper => "that docker-credential-NAME is on the runner host's PATH and answers for the registry",
            ImageDoesNotExist => {
                "that the repository exists (the registry's UI, or `docker manifest inspect` with credentials that \
                 can read it): registries answer a missing repository as they answer a forbidden one"
            }
            TagDoesNotExist => "the repository's tags (Deploy > Container Registry, or the registry's tag list)",
            RateLimit => "Docker Hub's RateLimit-Remaining for the runner host's address",
            Tls => "the registry's certificate from the runner host (`openssl s_client -connect HOST:PORT`)",
            Dns => "the name's lookup from the job's container or the runner host",
            DindConnection => "the service's alias and DOCKER_HOST's host name and port",
            DindTls => "DOCKER_TLS_CERTDIR, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and the runner's /certs/client volume",
            RegistryDown => "the registry's status page or health endpoint",
            PermissionProjectVisibility => {
                "the triggering user's role in the image's project, the project's visibility and its registry's \
                 access level"
            }
            DependencyProxy => "the group's Dependency Proxy settings and the user's role in the group",
            PlatformMismatch => "the image's platforms (`docker manifest inspect`) against the runner host's",
            KanikoConfig => "/kaniko/.docker/config.json as the job wrote it (JSON, base64, the registry key)",
            Cli28DockerAuthConfig => {
                "the job image's Docker CLI version (28.3+) and DOCKER_AUTH_CONFIG in the job's variables"
            }
            Other => "the scenario's description",
        }
    }

    /// Whether the fix is about who may do what (credentials, tokens, permissions), as opposed
    /// to an image that is not there, a limit, the network or TLS.
    pub fn is_authorization(self) -> bool {
        use CauseKind::*;
        matches!(
            self,
            JobTokenAllowlist
                | JobTokenOtherProjectPush
                | NoCredentials
                | WrongCredentials
                | ExpiredOrRevokedToken
                | DockerAuthConfigFormat
                | DockerAuthConfigMissingKey
                | CredentialHelper
                | PermissionProjectVisibility
                | KanikoConfig
                | Cli28DockerAuthConfig
        )
    }
}

#[cfg(test)]
mod tests {
    use super::CauseKind;

    #[test]
    fn kinds_read_as_the_corpus_writes_them() {
        let k: CauseKind = serde_yaml_ng::from_str("cli-28-docker-auth-config").unwrap();
        assert_eq!(k, CauseKind::Cli28DockerAuthConfig);
        let k: CauseKind = serde_yaml_ng::from_str("job-token-allowlist").unwrap();
        assert!(k.is_authorization());
        assert!(
            !serde_yaml_ng::from_str::<CauseKind>("tag-does-not-exist")
                .unwrap()
                .is_authorization()
        );
    }
}
