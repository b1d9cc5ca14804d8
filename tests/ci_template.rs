//! docs/ci/regsim.gitlab-ci.yml, the template users include: its YAML parses, every key is one of
//! GitLab's CI/CD keywords (the keyword reference, docs.gitlab.com/ci/yaml/; GitLab's own JSON
//! schema is not vendored here), and its script runs as written against this build's regsim.

use serde_yaml_ng::Value;
use std::path::PathBuf;

fn template() -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/ci/regsim.gitlab-ci.yml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_mapping()
        .unwrap_or_else(|| panic!("not a mapping: {v:?}"))
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

/// Job keywords (docs.gitlab.com/ci/yaml/, "Job keywords").
const JOB: &[&str] = &[
    "after_script",
    "allow_failure",
    "artifacts",
    "before_script",
    "cache",
    "coverage",
    "dependencies",
    "environment",
    "extends",
    "hooks",
    "id_tokens",
    "identity",
    "image",
    "inherit",
    "interruptible",
    "needs",
    "pages",
    "parallel",
    "release",
    "resource_group",
    "retry",
    "rules",
    "script",
    "secrets",
    "services",
    "stage",
    "tags",
    "timeout",
    "trigger",
    "variables",
    "when",
];

#[test]
fn the_ci_template_uses_gitlab_s_keywords_and_runs_as_written() {
    let t = template();
    let global = ["default", "include", "stages", "variables", "workflow"];
    let top = keys(&t);
    assert!(top.contains(&"regsim".to_string()), "{top:?}");
    for k in top.iter().filter(|k| *k != "regsim") {
        assert!(global.contains(&k.as_str()), "top-level `{k}` is no global keyword");
    }
    let job = &t["regsim"];
    for k in keys(job) {
        assert!(JOB.contains(&k.as_str()), "job keyword `{k}` is not GitLab's");
    }
    for k in keys(&job["image"]) {
        assert!(
            ["name", "entrypoint", "docker", "pull_policy", "kubernetes"].contains(&k.as_str()),
            "image:{k}"
        );
    }
    // The image's ENTRYPOINT is regsim: the runner's shell needs it overridden.
    assert_eq!(
        job["image"]["entrypoint"],
        Value::Sequence(vec![Value::String(String::new())])
    );
    let artifacts = &job["artifacts"];
    for k in keys(artifacts) {
        assert!(
            [
                "paths",
                "exclude",
                "expire_in",
                "expose_as",
                "name",
                "public",
                "access",
                "reports",
                "untracked",
                "when"
            ]
            .contains(&k.as_str()),
            "artifacts:{k}"
        );
    }
    assert_eq!(artifacts["when"], Value::String("always".into()));
    assert_eq!(artifacts["reports"]["junit"], Value::String("regsim-junit.xml".into()));

    // The script, as the runner's sh would run it, with this build's regsim and the catalogue.
    let bin = env!("CARGO_BIN_EXE_regsim");
    let dir = std::env::temp_dir().join(format!("regsim-ci-template-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for line in job["script"].as_sequence().unwrap() {
        let line = line.as_str().unwrap().replace("/usr/local/bin/regsim", bin);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .current_dir(&dir)
            .env(
                "REGSIM_SCENARIOS",
                root.join("scenarios/seed-001-private-project-image-denied.yaml"),
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let report = std::fs::read_to_string(dir.join("regsim-junit.xml")).unwrap();
    assert!(report.contains("<testsuite"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
