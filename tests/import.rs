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
                "glpat-NotARealPat0000000000",
                "Passw0rd",
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

/// Saved answers of GitLab's API fill in what the files cannot say: the instance's version, its
/// address and registry, each project's visibility, age (which side of 15.9), registry access
/// level, job token scope with its allowlists, and members; the scenario loads.
#[test]
fn gitlab_api_answers_fill_in_the_projects() {
    let api = dir().join("api");
    let arg = |f: &str| api.join(f).to_str().unwrap().to_string();
    let scoped = |f: &str| format!("platform/images={}", arg(f));
    let file = std::env::temp_dir().join(format!("regsim-import-api-{}.yaml", std::process::id()));
    let out = import(&[
        "--job",
        "test",
        "--project",
        "team/app",
        "--gitlab-api",
        &arg("version.json"),
        "--gitlab-api",
        &arg("projects.json"),
        "--gitlab-api",
        &scoped("platform-images-job_token_scope.json"),
        "--gitlab-api",
        &scoped("platform-images-allowlist.json"),
        "--gitlab-api",
        &scoped("platform-images-groups_allowlist.json"),
        "--gitlab-api",
        &scoped("platform-images-members.json"),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    let world = regsim::run::load(&file, &regsim::run::Overrides::default()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let _ = std::fs::remove_file(&file);
    for line in [
        "  version: 17.3.1   # GET /version: 17.3.1-ee",
        "  external_url: \"https://gitlab.example.com\"   # the project's web_url (GitLab's API)",
        "  registry: \"registry.gitlab.example.com\"   # the project's container_registry_image_prefix (GitLab's API)",
        "  - path: \"tools\"   # on a job token allowlist (GitLab's API); UNKNOWN: its visibility and members",
        "    visibility: internal   # GitLab's API",
        "    container_registry: private   # container_registry_access_level (GitLab's API)",
        "    job_token_allowlist: { enabled: true, projects: [\"team/app\"], groups: [\"tools\"] }   # job_token_scope and its allowlists (GitLab's API)",
        "      \"ana\": maintainer   # members/all (GitLab's API)",
        "      # not modelled: release-bot (access level 5)",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?}:\n{text}");
    }
    assert!(
        text.contains("    created_in: 15.9.0   # created_at 2023-06-01: on or after GitLab 15.9"),
        "{text}"
    );
    assert!(
        text.contains("    created_in: 15.8.0   # created_at 2022-11-03: before GitLab 15.9"),
        "{text}"
    );
    assert!(!text.contains("UNKNOWN: Help (?) > About GitLab"), "{text}");
    assert!(
        !text.contains("GR1348941"),
        "the project's runners_token is not copied:\n{text}"
    );
    assert_eq!(world.gitlab.version.to_string(), "17.3.1");

    // An answer that does not name its project is refused with how to name it.
    let out = import(&[
        "--job",
        "test",
        "--gitlab-api",
        &arg("platform-images-job_token_scope.json"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a job_token_scope answer does not name its project: give it as --gitlab-api group/project="),
        "{err}"
    );
    // Not an answer regsim reads, and not JSON: named with the file.
    let out = import(&[
        "--job",
        "test",
        "--gitlab-api",
        dir().join("config.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.toml: not JSON (line 1, column"));
}
