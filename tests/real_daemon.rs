//! Agreement with the real Docker daemon: every catalogue scenario, served on 127.0.0.1, is run
//! twice on the very same mocks — once with the simulated Docker 20.10.24, once with the real
//! dockerd (Debian's docker.io 20.10.24) — and the two job logs must be equal byte for byte.
//!
//! Without a daemon the test says so on stderr and passes; under CI (`CI` set) it fails instead.

use regsim::run::{Overrides, collect, load, run_against_real_daemon};
use regsim_clients::engine::real::RealDaemon;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// The engine version the real daemon here is, and the simulated one is compared at.
const DOCKER: &str = "20.10.24";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Writes past cargo's output capture, so a skip is visible in a normal `cargo test` run.
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// The local dockerd, or `None` after saying why on stderr; under CI a missing daemon fails.
async fn daemon_or_skip(what: &str) -> Option<RealDaemon> {
    match RealDaemon::connect().await {
        Ok(d) => Some(d),
        Err(e) if in_ci() => panic!("CI must run the real-daemon {what}, but no dockerd answers: {e}"),
        Err(e) => {
            say(&format!(
                "SKIPPED real-daemon {what}: no Docker daemon answers ({e}); start one with `make dockerd`"
            ));
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_dockerd_prints_what_simulated_docker_20_10_prints() {
    let Some(daemon) = daemon_or_skip("agreement").await else {
        return;
    };
    let version = daemon.version().await.expect("dockerd reports its version");
    if !version.starts_with("20.10.") {
        let msg = format!("the real daemon is {version}; this comparison is calibrated for dockerd {DOCKER}");
        if in_ci() {
            panic!("{msg}");
        }
        say(&format!("SKIPPED real-daemon agreement: {msg}"));
        return;
    }
    let daemon = Arc::new(daemon);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files = collect(&[root]).expect("catalogue is readable");
    // While working on a few scenarios: REGSIM_ONLY=seed-003 compares only the files whose name
    // contains that text (CI leaves it unset and compares the whole catalogue).
    if let Ok(only) = std::env::var("REGSIM_ONLY") {
        assert!(
            !in_ci(),
            "REGSIM_ONLY narrows the comparison; CI must compare everything"
        );
        files.retain(|f| f.display().to_string().contains(&only));
    }
    let overrides = Overrides {
        docker: Some(regsim_model::versions::parse_version(DOCKER).unwrap()),
        ..Default::default()
    };

    // Several pulls at once through one daemon, like several runners on one host. Jobs with a
    // script (the ones that push) take turns: dockerd limits uploads daemon-wide and prints
    // `Waiting` for a layer that must queue behind another job's (moby
    // distribution/xfer/transfer.go), a line neither job prints alone.
    let scripts = Arc::new(tokio::sync::Mutex::new(()));
    let mut set = tokio::task::JoinSet::new();
    for f in files {
        let d = daemon.clone();
        let o = overrides.clone();
        let scripts = scripts.clone();
        set.spawn(async move {
            let world = load(&f, &o).unwrap_or_else(|e| panic!("{e}"));
            // This daemon pulls for linux/amd64; a scenario on another host platform has nothing
            // to compare with it.
            if world.docker.platform != regsim_wire::platform::Platform::default() {
                return (f, None);
            }
            let _turn = if world.job.script.is_empty() {
                None
            } else {
                Some(scripts.lock().await)
            };
            let res = run_against_real_daemon(&world, &f, d).await;
            (f, Some(res))
        });
    }
    let mut checked = 0;
    let mut differ = Vec::new();
    let mut other_platform = Vec::new();
    let mut not_modelled = Vec::new();
    while let Some(r) = set.join_next().await {
        let (f, res) = r.expect("comparison task");
        let Some(res) = res else {
            other_platform.push(f.display().to_string());
            continue;
        };
        // A scenario whose Docker 20.10 pull regsim cannot model (a GitLab 13.7–13.9 proxy asked
        // for a digest) has nothing to compare; it is listed, not hidden.
        let (sim, real) = match res {
            Ok(r) => r,
            Err(e) if e.not_modelled().is_some() => {
                not_modelled.push(format!("{} ({e})", f.display()));
                continue;
            }
            Err(e) => panic!("{}: {e}", f.display()),
        };
        checked += 1;
        // The job log, and the `docker` lines of the script (the daemon's streams) when there are some.
        let script = |r: &regsim::run::Report| r.job_log.script.as_ref().map(|s| s.text.clone()).unwrap_or_default();
        // Layer statuses dockerd may drop (regsim::run::racy_layer_status) are left out of the
        // script's comparison: jobs run here in parallel, so the daemon's client often lags.
        let (sim_script, real_script) = (script(&sim), script(&real));
        let only_racy = sim_script != real_script
            && regsim::run::without_racy_layer_statuses(&sim_script)
                == regsim::run::without_racy_layer_statuses(&real_script);
        if only_racy {
            say(&format!(
                "note: {}: the real daemon dropped layer statuses (compared without them)",
                f.display()
            ));
        }
        if sim.job_log.raw != real.job_log.raw || (sim_script != real_script && !only_racy) {
            differ.push(format!(
                "{}\n--- simulated Docker {DOCKER} ---\n{}{}--- real dockerd {version} ---\n{}{}",
                f.display(),
                sim.job_log.plain,
                script(&sim),
                real.job_log.plain,
                script(&real)
            ));
        }
    }
    say(&format!(
        "real-daemon agreement: {checked} scenarios, {} agree, {} differ{}{}",
        checked - differ.len(),
        differ.len(),
        if other_platform.is_empty() {
            String::new()
        } else {
            format!(
                " (not compared, runner host not linux/amd64 like this daemon: {})",
                other_platform.join(", ")
            )
        },
        if not_modelled.is_empty() {
            String::new()
        } else {
            format!(
                " (not compared, regsim does not model their Docker {DOCKER} pull: {})",
                not_modelled.join("; ")
            )
        }
    ));
    assert!(differ.is_empty(), "job logs differ:\n{}", differ.join("\n"));
}

/// `docker login` through the real daemon against the mock GitLab: the login dance (no scope,
/// `client_id=docker&offline_token=true`) must succeed with a token and fail the way dockerd
/// 20.10.24 was observed failing with wrong credentials (docker-errors.md §4(e)).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_dockerd_logs_in_to_the_mock_registry() {
    let Some(daemon) = daemon_or_skip("login test").await else {
        return;
    };
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/seed-001-fix-project-access-token.yaml");
    let world = load(&f, &Overrides::default()).unwrap();
    let stage = regsim_servers::Stage::start(&world, regsim_servers::Placement::Loopback)
        .await
        .unwrap();
    let reg = stage.world.gitlab.registry.to_string();
    assert_eq!(
        daemon
            .login("ci_pull_containers", "my_project_access_token", &reg)
            .await
            .unwrap(),
        "Login Succeeded"
    );
    assert_eq!(
        daemon
            .login("gitlab-ci-token", &stage.world.job.token, &reg)
            .await
            .unwrap(),
        "Login Succeeded"
    );
    match daemon.login("ci_pull_containers", "wrong", &reg).await {
        Err(regsim_clients::engine::DaemonError::Http { message, .. }) => {
            assert_eq!(
                message,
                format!("Get \"http://{reg}/v2/\": unauthorized: HTTP Basic: Access denied")
            )
        }
        other => panic!("{other:?}"),
    }
}

fn regsim() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_regsim"));
    c.current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .env("NO_COLOR", "1");
    c
}

/// `regsim run --engine real` on catalogue scenarios through the local dockerd 20.10.24: the
/// prediction and the daemon's text agree line for line (the failing seed's error line among
/// them), and each scenario leaves an observation record naming the daemon and its Go version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_real_shows_no_differences_with_dockerd_20_10() {
    let Some(daemon) = daemon_or_skip("`run --engine real`").await else {
        return;
    };
    let version = daemon.version_info().await.expect("dockerd reports its version");
    if !version.version.starts_with("20.10.") {
        let msg = format!(
            "the real daemon is {}; this check is for dockerd {DOCKER}",
            version.version
        );
        assert!(!in_ci(), "{msg}");
        say(&format!("SKIPPED `run --engine real`: {msg}"));
        return;
    }
    let dir = std::env::temp_dir().join(format!("regsim-observations-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = regsim()
        .args(["run", "--engine", "real", "--observations"])
        .arg(&dir)
        .args([
            "scenarios/seed-001-private-project-image-denied.yaml",
            "scenarios/seed-001-fix-project-access-token.yaml",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout.matches("\nagree: ").count(), 2, "{stdout}");
    assert!(!stdout.contains("  regsim   │"), "no line differs: {stdout}");
    assert!(
        stdout.contains("          │ ERROR: Job failed: failed to pull image ")
            && stdout.contains("Error response from daemon: pull access denied"),
        "the seed's error line is one both printed: {stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "2 scenarios on dockerd {} at /var/run/docker.sock: 2 agree, 0 differ, 0 not compared, 0 broken",
            version.version
        )) || std::env::var_os("DOCKER_HOST").is_some(),
        "{stderr}"
    );
    let record = dir.join(format!(
        "seed-001-private-project-image-denied.dockerd-{}.json",
        version.version
    ));
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(record["agree"], true);
    assert_eq!(record["engine"]["go_version"], version.go_version.as_str());
    assert_eq!(record["prediction"], record["observed"]);
    let daemon_lines = record["daemon_lines"].as_array().unwrap();
    assert!(
        !daemon_lines.is_empty()
            && daemon_lines
                .iter()
                .all(|l| l.as_str().unwrap().contains("Error response from daemon")),
        "{record:#}"
    );
    assert!(
        record["source"]
            .as_str()
            .unwrap()
            .starts_with(&format!("[OBS] dockerd {} ({}", version.version, version.go_version)),
        "{record:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// With no daemon at DOCKER_HOST, `--engine real` refuses with status 2 and says where it looked;
/// a kubernetes scenario is not compared (its pulls are containerd's), with status 1.
#[test]
fn engine_real_refuses_without_a_daemon() {
    let out = regsim()
        .args([
            "run",
            "--engine",
            "real",
            "scenarios/seed-001-private-project-image-denied.yaml",
        ])
        .env("DOCKER_HOST", "unix:///nonexistent/regsim-test.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("regsim: --engine real: no Docker daemon answers (/nonexistent/regsim-test.sock: "),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let out = regsim()
        .args([
            "run",
            "--engine",
            "real",
            "--docker",
            "28.2.2",
            "scenarios/seed-001-on-kubernetes.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("predicts for the daemon's own version"));
}
