//! A job of a `.gitlab-ci.yml` as GitLab resolves it, as far as a scenario needs: YAML anchors
//! and `<<` merges, `extends:` (hashes merged deeply, other values replaced — GitLab's docs,
//! "Use extends to reuse configuration sections"), then the top-level defaults (`default:` and
//! the older top-level `image:`, `services:`, `before_script:`) for keys the job does not set.
//! `include:` is listed, never fetched.

use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeMap;

/// Top-level keys that are not jobs (GitLab's CI/CD YAML reference).
const GLOBAL_KEYS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "types",
    "pages:deploy",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CiJob {
    pub name: String,
    pub image: Option<String>,
    /// `image: {pull_policy: …}`.
    pub image_pull_policy: Vec<String>,
    /// (name, alias)
    pub services: Vec<(String, Option<String>)>,
    /// Global variables, then the job's (the job's win).
    pub variables: BTreeMap<String, String>,
    /// `before_script` then `script`.
    pub script: Vec<String>,
    /// `include:` entries as written (local paths, projects, templates, remote URLs).
    pub includes: Vec<String>,
    /// The other jobs of the file.
    pub other_jobs: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error("{0}")]
    Yaml(String),
    #[error("the file has no jobs (top-level keys other than {})", GLOBAL_KEYS.join(", "))]
    NoJobs,
    #[error("no job `{want}`; the jobs are: {}", have.join(", "))]
    NoSuchJob { want: String, have: Vec<String> },
    #[error("several jobs ({}): name one with --job", .0.join(", "))]
    WhichJob(Vec<String>),
    #[error("job `{job}`: extends `{parent}`, which the file does not define (it may come from an include)")]
    MissingParent { job: String, parent: String },
    #[error("job `{0}`: extends itself through a cycle")]
    Cycle(String),
}

pub fn read(text: &str, job: Option<&str>) -> Result<CiJob, CiError> {
    let mut doc: Value = serde_yaml_ng::from_str(text).map_err(|e| CiError::Yaml(e.to_string()))?;
    doc.apply_merge().map_err(|e| CiError::Yaml(e.to_string()))?;
    let Value::Mapping(top) = doc else {
        return Err(CiError::Yaml("the top level is not a mapping".into()));
    };
    let jobs: Vec<String> = top
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .filter(|(k, v)| !GLOBAL_KEYS.contains(k) && !k.starts_with('.') && v.is_mapping())
        .map(|(k, _)| k.to_string())
        .collect();
    if jobs.is_empty() {
        return Err(CiError::NoJobs);
    }
    let name = match job {
        Some(j) if jobs.iter().any(|x| x == j) => j.to_string(),
        Some(j) => {
            return Err(CiError::NoSuchJob {
                want: j.into(),
                have: jobs,
            });
        }
        None if jobs.len() == 1 => jobs[0].clone(),
        None => return Err(CiError::WhichJob(jobs)),
    };
    let resolved = resolve(&top, &name, &mut Vec::new())?;
    let default = top
        .get("default")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    // A key the job leaves out comes from `default:`, else from the top level (older syntax).
    let pick = |key: &str| -> Option<Value> {
        resolved
            .get(key)
            .or_else(|| default.get(key))
            .or_else(|| top.get(key))
            .cloned()
    };
    let mut out = CiJob {
        name: name.clone(),
        other_jobs: jobs.into_iter().filter(|j| *j != name).collect(),
        ..CiJob::default()
    };
    match pick("image") {
        Some(Value::String(s)) => out.image = Some(s),
        Some(Value::Mapping(m)) => {
            out.image = m.get("name").and_then(Value::as_str).map(str::to_string);
            out.image_pull_policy = strings(m.get("pull_policy"));
        }
        _ => {}
    }
    if let Some(Value::Sequence(services)) = pick("services") {
        for s in services {
            match s {
                Value::String(n) => out.services.push((n, None)),
                Value::Mapping(m) => {
                    if let Some(n) = m.get("name").and_then(Value::as_str) {
                        let alias = m.get("alias").and_then(Value::as_str).map(str::to_string);
                        out.services.push((n.to_string(), alias));
                    }
                }
                _ => {}
            }
        }
    }
    // Variables: the file's global ones, then the job's own.
    for m in [top.get("variables"), resolved.get("variables")].into_iter().flatten() {
        if let Value::Mapping(m) = m {
            for (k, v) in m {
                if let (Some(k), Some(v)) = (k.as_str(), scalar(v)) {
                    out.variables.insert(k.to_string(), v);
                }
            }
        }
    }
    out.script.extend(strings(pick("before_script").as_ref()));
    out.script.extend(strings(resolved.get("script")));
    out.includes = includes(top.get("include"));
    Ok(out)
}

/// The job's own mapping with its `extends:` parents merged under it.
fn resolve(top: &Mapping, name: &str, chain: &mut Vec<String>) -> Result<Mapping, CiError> {
    if chain.iter().any(|c| c == name) {
        return Err(CiError::Cycle(chain[0].clone()));
    }
    chain.push(name.to_string());
    let own = top.get(name).and_then(Value::as_mapping).cloned().unwrap_or_default();
    let parents = strings(own.get("extends"));
    let mut merged = Mapping::new();
    for p in parents {
        if !top.contains_key(p.as_str()) {
            return Err(CiError::MissingParent {
                job: chain[0].clone(),
                parent: p,
            });
        }
        let parent = resolve(top, &p, chain)?;
        deep_merge(&mut merged, &parent);
    }
    deep_merge(&mut merged, &own);
    merged.remove("extends");
    chain.pop();
    Ok(merged)
}

/// GitLab's extends merge: hashes deeply, everything else (arrays included) replaced.
fn deep_merge(into: &mut Mapping, from: &Mapping) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Mapping(a)), Value::Mapping(b)) => deep_merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // `VAR: {value: …, description: …}`
        Value::Mapping(m) => m.get("value").and_then(scalar),
        _ => None,
    }
}

/// A string or a list of strings (nested lists flattened, as GitLab does for scripts).
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .flat_map(|i| match i {
                Value::Sequence(_) => strings(Some(i)),
                other => scalar(other).into_iter().collect(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn includes(v: Option<&Value>) -> Vec<String> {
    let one = |i: &Value| -> Option<String> {
        match i {
            Value::String(s) => Some(s.clone()),
            Value::Mapping(m) => {
                let field = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
                field("local")
                    .map(|l| format!("local: {l}"))
                    .or_else(|| field("template").map(|t| format!("template: {t}")))
                    .or_else(|| field("remote").map(|r| format!("remote: {r}")))
                    .or_else(|| field("component").map(|c| format!("component: {c}")))
                    .or_else(|| field("project").map(|p| format!("project: {p} {}", strings(m.get("file")).join(", "))))
            }
            _ => None,
        }
    };
    match v {
        Some(Value::Sequence(items)) => items.iter().filter_map(one).collect(),
        Some(other) => one(other).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_extends_and_defaults() {
        let text = r#"
include:
  - local: ci/common.yml
  - template: Security/SAST.gitlab-ci.yml
variables:
  DOCKER_TLS_CERTDIR: "/certs"
  RETRIES: 3
default:
  image: docker:24.0.9
  before_script:
    - docker info
.docker: &docker
  services:
    - name: docker:24.0.9-dind
      alias: docker
  variables:
    DOCKER_HOST: tcp://docker:2376
.build:
  extends: .base
  stage: build
.base:
  variables:
    DOCKER_HOST: tcp://wrong:1
    FROM_BASE: "yes"
build:
  <<: *docker
  extends: .build
  image:
    name: $CI_REGISTRY_IMAGE/builder:latest
    pull_policy: [always, if-not-present]
  script:
    - docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY
    - [docker build -t app ., docker push app]
test:
  script: [make test]
"#;
        let j = read(text, Some("build")).unwrap();
        assert_eq!(j.image.as_deref(), Some("$CI_REGISTRY_IMAGE/builder:latest"));
        assert_eq!(j.image_pull_policy, ["always", "if-not-present"]);
        assert_eq!(
            j.services,
            [("docker:24.0.9-dind".to_string(), Some("docker".to_string()))]
        );
        // The job's own (from the anchor) wins over its parents'.
        assert_eq!(j.variables["DOCKER_HOST"], "tcp://docker:2376");
        assert_eq!(j.variables["FROM_BASE"], "yes");
        assert_eq!(j.variables["RETRIES"], "3");
        assert_eq!(j.script.len(), 4);
        assert_eq!(j.script[0], "docker info");
        assert_eq!(
            j.includes,
            ["local: ci/common.yml", "template: Security/SAST.gitlab-ci.yml"]
        );
        assert_eq!(j.other_jobs, ["test"]);
        let t = read(text, Some("test")).unwrap();
        assert_eq!(t.image.as_deref(), Some("docker:24.0.9"));
        assert!(matches!(read(text, None), Err(CiError::WhichJob(_))));
        assert!(matches!(read(text, Some("nope")), Err(CiError::NoSuchJob { .. })));
        let broken = "a:\n  extends: .missing\n  script: [x]\n";
        assert!(matches!(read(broken, None), Err(CiError::MissingParent { .. })));
        let cycle = ".a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: [x]\n";
        assert!(matches!(read(cycle, None), Err(CiError::Cycle(_))));
    }
}
