//! `regsim import` on real-world shaped files (tests/import/): a pipeline with anchors, a hidden
//! template job, `extends:`, defaults and an include, and a config.toml with a docker, a
//! docker+machine and a kubernetes runner. Every job × runner makes a scenario that loads; no
//! secret of the inputs reaches the output; what the files cannot say is marked UNKNOWN.

use std::path::PathBuf;
use std::process::Command;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/import")
}

fn import(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_regsim"))
        .arg("import")
        .arg(dir().join(".gitlab-ci.yml"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_job_on_every_runner_makes_a_scenario_that_loads() {
    let config = dir().join("config.toml");
    let out_dir = std::env::temp_dir().join(format!("regsim-import-test-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    for runner in ["docker-runner", "autoscale", "k8s"] {
        for job in ["build", "test", "lint"] {
            let file = out_dir.join(format!("{runner}-{job}.yaml"));
            let out = import(&[
                "--job",
                job,
                "--config-toml",
                config.to_str().unwrap(),
                "--runner",
                runner,
                "--project",
                "team/app",
                "-o",
                file.to_str().unwrap(),
            ]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{runner} {job}: {stderr}");
            let text = std::fs::read_to_string(&file).unwrap();
            regsim::run::load(&file, &regsim::run::Overrides::default())
                .unwrap_or_else(|e| panic!("{runner} {job}: {e}\n{text}"));
            for secret in [
                "Y2k6czNjcmV0",
                "gldt-NotARealToken1234",
                "glrt-ThisIsNotARealToken00",
                "glrt-KubeFakeToken",
            ] {
                assert!(!text.contains(secret), "{runner} {job}: {secret} copied\n{text}");
            }
            assert!(text.contains("# UNKNOWN"), "{text}");
            assert!(text.contains("project: platform/ci-templates /docker.yml"), "{text}");
            let executor = match runner {
                "docker-runner" => "docker",
                "autoscale" => "docker+machine",
                _ => "kubernetes",
            };
            assert!(text.contains(&format!("executor: \"{executor}\"")), "{text}");
        }
    }
    // What each job resolved to.
    let build = std::fs::read_to_string(out_dir.join("docker-runner-build.yaml")).unwrap();
    assert!(
        build.contains("{ name: \"docker:24.0.9-dind\", alias: \"docker\" }"),
        "{build}"
    );
    assert!(
        build.contains("docker login -u"),
        "the template's before_script: {build}"
    );
    assert!(
        build.contains("not modelled by regsim: [runners.docker] privileged = true"),
        "{build}"
    );
    let lint = std::fs::read_to_string(out_dir.join("docker-runner-lint.yaml")).unwrap();
    assert!(lint.contains("host: \"registry.corp.example:5000\""), "{lint}");
    assert!(lint.contains("pull_policy: [\"always\", \"if-not-present\"]"), "{lint}");
    let k8s = std::fs::read_to_string(out_dir.join("k8s-test.yaml")).unwrap();
    assert!(
        k8s.contains("image_pull_secrets: [\"regcred\"]") && k8s.contains("\"regcred\": "),
        "{k8s}"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn a_job_or_runner_that_cannot_be_chosen_is_a_clear_error() {
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("several jobs (build, test, lint): name one with --job"),
        "{err}"
    );
    let out = import(&["--job", "deploy"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no job `deploy`"));
    let config = dir().join("config.toml");
    let out = import(&["--job", "build", "--config-toml", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("several runners (docker-runner, autoscale, k8s)"));
    // Written to standard output when no -o is given.
    let out = import(&["--job", "test"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# Written by `regsim import`"));
}
