//! The raw job trace, byte for byte, against the sequences the research spells out
//! (docs/research/gitlab-runner.md §2.4–2.5 and §5.1): colour prefixes,
//! where the reset goes, section markers, the retry pair and the final line.

use regsim::run::{Overrides, load, run_world};
use std::path::PathBuf;

async fn raw(file: &str) -> (String, i64) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(file);
    let w = load(&p, &Overrides::default()).unwrap();
    let ts = w.clock.unix_timestamp();
    (run_world(&w, &p).await.unwrap().job_log.raw, ts)
}

const ESC: &str = "\x1b";

#[tokio::test]
async fn v16_2_build_error_pull_failure() {
    // gitlab-runner.md §2.5 (v16.2.0): one try, section end before the final line, extra `\n`.
    let (raw, ts) = raw("seed-000-allowlist-blocks-cross-project-pull.yaml").await;
    let img = "foobar.example.net/your/project/image:latest";
    let err = "Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied (manager.go:237:0s)";
    let want = format!(
        "{ESC}[0KRunning with gitlab-runner 16.2.0 (782e15da){ESC}[0;m\n\
         {ESC}[0K  on shared-docker Zx9Qm3TtV, system ID: s_0212421ca753{ESC}[0;m\n\
         section_start:{ts}:prepare_executor\r{ESC}[0K{ESC}[0K{ESC}[36;1mPreparing the \"docker\" executor{ESC}[0;m{ESC}[0;m\n\
         {ESC}[0KUsing Docker executor with image {img} ...{ESC}[0;m\n\
         {ESC}[0KAuthenticating with credentials from job payload (GitLab Registry){ESC}[0;m\n\
         {ESC}[0KPulling docker image {img} ...{ESC}[0;m\n\
         {ESC}[0;33mWARNING: Failed to pull image with policy \"always\": {err}{ESC}[0;m\n\
         section_end:{ts}:prepare_executor\r{ESC}[0K{ESC}[31;1mERROR: Job failed: failed to pull image \"{img}\" with specified policies [always]: {err}\n{ESC}[0;m\n"
    );
    assert_eq!(raw, want);
}

#[tokio::test]
async fn v14_2_retried_pull_failure() {
    // gitlab-runner.md §2.4 (v14.2.0): three tries, each with the error and retry pair, the
    // section ending 9 s after it started, then the system failure, no extra line.
    let (raw, ts) = raw("project-access-token-expired.yaml").await;
    let img = "your.gitlab.address.com:5000/project_a/group/container:1.2.3";
    let err = "Error response from daemon: Head \"https://your.gitlab.address.com:5000/v2/project_a/group/container/manifests/1.2.3\": unauthorized: HTTP Basic: Access denied (manager.go:205:0s)";
    let attempt = format!(
        "{ESC}[0KUsing Docker executor with image {img} ...{ESC}[0;m\n\
         {ESC}[0KAuthenticating with credentials from $DOCKER_AUTH_CONFIG{ESC}[0;m\n\
         {ESC}[0KPulling docker image {img} ...{ESC}[0;m\n\
         {ESC}[0;33mWARNING: Failed to pull image with policy \"always\": {err}{ESC}[0;m\n\
         {ESC}[31;1mERROR: Preparation failed: failed to pull image \"{img}\" with specified policies [always]: {err}{ESC}[0;m\n\
         {ESC}[32;1mWill be retried in 3s ...{ESC}[0;m\n"
    );
    let want = format!(
        "{ESC}[0KRunning with gitlab-runner 14.2.0 (58ba2b95){ESC}[0;m\n\
         {ESC}[0K  on docker-runner xR7kTq2m{ESC}[0;m\n\
         section_start:{ts}:prepare_executor\r{ESC}[0K{ESC}[0K{ESC}[36;1mPreparing the \"docker\" executor{ESC}[0;m{ESC}[0;m\n\
         {attempt}{attempt}{attempt}\
         section_end:{}:prepare_executor\r{ESC}[0K{ESC}[31;1mERROR: Job failed (system failure): failed to pull image \"{img}\" with specified policies [always]: {err}{ESC}[0;m\n",
        ts + 9
    );
    assert_eq!(raw, want);
}

#[tokio::test]
async fn v11_7_resets_after_the_newline() {
    // gitlab-runner.md §2.1 (v11.x – v14.1.x): `prefix + Sprintln(args)` then `\e[0;m`; no sections.
    let (raw, _) = raw("seed-004-private-registry-no-credentials.yaml").await;
    assert!(raw.starts_with(&format!(
        "{ESC}[0KRunning with gitlab-runner 11.7.0 (8bb608ff)\n{ESC}[0;m{ESC}[0K  on docker-runner ckf36eMz\n{ESC}[0;m{ESC}[0KUsing Docker executor with image"
    )));
    assert!(raw.ends_with("(executor_docker.go:168:0s)\n\x1b[0;m"));
    assert!(!raw.contains("section_"));
}

#[tokio::test]
async fn v16_2_script_failure_after_the_preparation() {
    // runner-executors-credentials.md §3.4, §8 (v16.2.0): the user-script section with its
    // header, the build image named again, green echo lines, the cleanup section, then the
    // docker executor's `exit code 1` with the 14.3 – 18.5 extra line.
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/job-token-push-to-other-project-denied.yaml");
    let w = load(&p, &Overrides::default()).unwrap();
    let log = run_world(&w, &p).await.unwrap().job_log;
    let c = log.continued.expect("the script ran");
    let ts = log
        .raw
        .rsplit("section_end:")
        .next()
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let head = format!(
        "section_start:{ts}:step_script\r{ESC}[0K{ESC}[0K{ESC}[36;1mExecuting \"step_script\" stage of the job script{ESC}[0;m{ESC}[0;m\n\
         {ESC}[0KUsing docker image sha256:"
    );
    assert!(c.raw.starts_with(&head), "{:?}", c.raw);
    assert!(c.raw.contains(&format!(
        "{ESC}[32;1m$ docker login -u gitlab-ci-token -p $CI_JOB_TOKEN \"$CI_REGISTRY\"{ESC}[0;m\n"
    )));
    let tail = format!(
        "denied: requested access to the resource is denied\n\
         section_end:{ts}:step_script\r{ESC}[0K\
         section_start:{ts}:cleanup_file_variables\r{ESC}[0K{ESC}[0K{ESC}[36;1mCleaning up project directory and file based variables{ESC}[0;m{ESC}[0;m\n\
         section_end:{ts}:cleanup_file_variables\r{ESC}[0K\
         {ESC}[31;1mERROR: Job failed: exit code 1\n{ESC}[0;m\n"
    );
    assert!(c.raw.ends_with(&tail), "{:?}", c.raw);
}
