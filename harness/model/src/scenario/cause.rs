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
