//! The job API between GitLab and a runner (`POST /api/v4/jobs/request`): the job payload as
//! GitLab writes it and the runner reads it (gitlab-rails.md §6: variables and `credentials`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobPayload {
    pub id: u64,
    pub token: String,
    pub image: PayloadImage,
    #[serde(default)]
    pub services: Vec<PayloadService>,
    pub variables: Vec<PayloadVariable>,
    pub credentials: Vec<PayloadCredential>,
    pub features: serde_json::Value,
    #[serde(default)]
    pub job_info: JobInfo,
    #[serde(default)]
    pub runner_info: RunnerInfo,
}

/// `job_info`: what the runner names resources after (`runner-…-project-ID-concurrent-N`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobInfo {
    pub project_id: u64,
}

/// `runner_info`: the job's timeout in seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunnerInfo {
    pub timeout: u64,
}

impl JobPayload {
    /// A job variable as the runner reads it: the last definition wins (later sources override).
    /// The last variable named `key` (the one that wins in the runner's lookup).
    pub fn variable_entry(&self, key: &str) -> Option<&PayloadVariable> {
        self.variables.iter().rev().find(|v| v.key == key)
    }

    pub fn variable(&self, key: &str) -> Option<String> {
        self.variables
            .iter()
            .rev()
            .find(|v| v.key == key)
            .map(|v| v.value.clone())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayloadImage {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull_policy: Vec<PullPolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayloadService {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayloadVariable {
    pub key: String,
    pub value: String,
    pub public: bool,
    pub masked: bool,
    /// Type File: the runner writes `value` to a file and the job sees the file's path.
    #[serde(default)]
    pub file: bool,
    /// "Expand variable reference" off: the runner does not expand `$` in the value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw: bool,
}

/// `image:pull_policy` and the runner's `pull_policy` (gitlab-runner.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// As .gitlab-ci.yml and config.toml spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "always",
            PullPolicy::IfNotPresent => "if-not-present",
            PullPolicy::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<PullPolicy> {
        [PullPolicy::Always, PullPolicy::IfNotPresent, PullPolicy::Never]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A list of policies as the runner's Go `%v` prints a slice of them: `[always if-not-present]`.
pub fn go_list(policies: &[PullPolicy]) -> String {
    let names: Vec<&str> = policies.iter().map(|p| p.as_str()).collect();
    format!("[{}]", names.join(" "))
}

impl std::fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a payload credential; GitLab sends `registry` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Registry,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayloadCredential {
    #[serde(rename = "type")]
    pub kind: CredentialKind,
    pub url: String,
    pub username: String,
    pub password: String,
}
