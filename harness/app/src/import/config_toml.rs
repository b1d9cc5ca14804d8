//! One `[[runners]]` entry of gitlab-runner's config.toml (docs.gitlab.com/runner/configuration/
//! advanced-configuration.html): what a scenario's `runner:` can say, and what it cannot (listed
//! so that the written scenario names it).

use std::collections::BTreeMap;
use toml::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunnerConfig {
    pub name: Option<String>,
    pub token: Option<String>,
    pub executor: String,
    pub environment: Vec<String>,
    pub pull_policy: Vec<String>,
    /// `[runners.docker] allowed_pull_policies`.
    pub allowed_pull_policies: Vec<String>,
    pub volumes: Vec<String>,
    pub dns: Vec<String>,
    pub feature_flags: BTreeMap<String, bool>,
    pub kubernetes_namespace: Option<String>,
    pub image_pull_secrets: Vec<String>,
    pub poll_timeout: Option<u64>,
    /// `[runners.kubernetes] privileged` (a dind service in the pod needs it).
    pub kubernetes_privileged: bool,
    /// Settings config.toml has that regsim does not model: `key = value` as written.
    pub not_modelled: Vec<String>,
    pub other_runners: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Toml(String),
    #[error("no [[runners]] entry")]
    NoRunners,
    #[error("no runner named `{want}`; the runners are: {}", have.join(", "))]
    NoSuchRunner { want: String, have: Vec<String> },
    #[error("several runners ({}): name one with --runner", .0.join(", "))]
    WhichRunner(Vec<String>),
}

/// Keys of `[runners.docker]` / `[runners.kubernetes]` regsim reads elsewhere or not at all.
const NOT_MODELLED: &[(&str, &str)] = &[
    ("docker", "helper_image"),
    ("docker", "privileged"),
    ("docker", "tls_verify"),
    ("docker", "tls_cert_path"),
    ("docker", "host"),
    ("docker", "image"),
    ("kubernetes", "allowed_pull_policies"),
    ("kubernetes", "helper_image"),
    ("kubernetes", "pull_policy"),
    ("kubernetes", "service_account"),
    ("kubernetes", "image"),
];

pub fn read(text: &str, runner: Option<&str>) -> Result<RunnerConfig, ConfigError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
    let runners: Vec<&toml::Table> = doc
        .get("runners")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_table).collect())
        .unwrap_or_default();
    if runners.is_empty() {
        return Err(ConfigError::NoRunners);
    }
    let name_of = |t: &toml::Table| t.get("name").and_then(Value::as_str).unwrap_or("(unnamed)").to_string();
    let names: Vec<String> = runners.iter().map(|t| name_of(t)).collect();
    let chosen = match runner {
        Some(r) => runners
            .iter()
            .find(|t| name_of(t) == r)
            .ok_or_else(|| ConfigError::NoSuchRunner {
                want: r.into(),
                have: names.clone(),
            })?,
        None if runners.len() == 1 => &runners[0],
        None => return Err(ConfigError::WhichRunner(names)),
    };
    let s = |t: &toml::Table, k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |t: Option<&toml::Table>, k: &str| -> Vec<String> {
        match t.and_then(|t| t.get(k)) {
            Some(Value::String(v)) => vec![v.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        }
    };
    let docker = chosen.get("docker").and_then(Value::as_table);
    let kubernetes = chosen.get("kubernetes").and_then(Value::as_table);
    let this = name_of(chosen);
    let mut out = RunnerConfig {
        name: s(chosen, "name"),
        token: s(chosen, "token"),
        executor: s(chosen, "executor").unwrap_or_else(|| "docker".into()),
        environment: list(Some(chosen), "environment"),
        pull_policy: list(docker, "pull_policy"),
        allowed_pull_policies: list(docker, "allowed_pull_policies"),
        volumes: list(docker, "volumes"),
        dns: list(docker, "dns"),
        kubernetes_namespace: kubernetes.and_then(|k| s(k, "namespace")),
        image_pull_secrets: list(kubernetes, "image_pull_secrets"),
        poll_timeout: kubernetes
            .and_then(|k| k.get("poll_timeout"))
            .and_then(Value::as_integer)
            .and_then(|n| u64::try_from(n).ok()),
        kubernetes_privileged: kubernetes
            .and_then(|k| k.get("privileged"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        other_runners: names.into_iter().filter(|n| *n != this).collect(),
        ..RunnerConfig::default()
    };
    if let Some(flags) = chosen.get("feature_flags").and_then(Value::as_table) {
        for (k, v) in flags {
            if let Some(b) = v.as_bool() {
                out.feature_flags.insert(k.clone(), b);
            }
        }
    }
    for (section, key) in NOT_MODELLED {
        let table = match *section {
            "docker" => docker,
            _ => kubernetes,
        };
        if let Some(v) = table.and_then(|t| t.get(*key)) {
            out.not_modelled.push(format!("[runners.{section}] {key} = {v}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_runner_and_what_regsim_does_not_model() {
        let text = r#"
concurrent = 4
[[runners]]
  name = "docker-runner"
  url = "https://gitlab.example.com"
  token = "glrt-AbCdEf1234567890xyz"
  executor = "docker"
  environment = ["DOCKER_AUTH_CONFIG={\"auths\":{}}"]
  [runners.feature_flags]
    FF_NETWORK_PER_BUILD = true
  [runners.docker]
    image = "alpine:3.19"
    privileged = true
    pull_policy = ["always", "if-not-present"]
    allowed_pull_policies = ["always"]
    volumes = ["/certs/client", "/cache"]
[[runners]]
  name = "k8s"
  executor = "kubernetes"
  [runners.kubernetes]
    namespace = "ci"
    image_pull_secrets = ["regcred"]
    poll_timeout = 600
    privileged = true
"#;
        let r = read(text, Some("docker-runner")).unwrap();
        assert_eq!(r.executor, "docker");
        assert_eq!(r.pull_policy, ["always", "if-not-present"]);
        assert_eq!(r.volumes, ["/certs/client", "/cache"]);
        assert!(r.feature_flags["FF_NETWORK_PER_BUILD"]);
        assert!(
            r.not_modelled.iter().any(|l| l.contains("privileged = true")),
            "{:?}",
            r.not_modelled
        );
        assert_eq!(r.allowed_pull_policies, ["always"]);
        assert!(!r.not_modelled.iter().any(|l| l.contains("allowed_pull_policies")));
        let k = read(text, Some("k8s")).unwrap();
        assert_eq!(k.image_pull_secrets, ["regcred"]);
        assert_eq!(k.kubernetes_namespace.as_deref(), Some("ci"));
        assert_eq!(k.poll_timeout, Some(600));
        assert!(k.kubernetes_privileged && !k.not_modelled.iter().any(|l| l.contains("privileged")));
        assert!(matches!(read(text, None), Err(ConfigError::WhichRunner(_))));
        assert!(matches!(read("concurrent = 1\n", None), Err(ConfigError::NoRunners)));
        assert!(matches!(read("[[runners]\n", None), Err(ConfigError::Toml(_))));
    }
}
