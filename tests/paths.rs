//! Paths given to `regsim run`, `diagnose` and `serve` as a hostile user gives them: a directory
//! with a link back up, a FIFO or a device named like a scenario. Nothing hangs or reads forever.

use regsim::run::collect;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("regsim-paths-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn catalogue_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/allowlist-off-pulls.yaml")
}

#[test]
fn a_walk_follows_each_directory_once_and_skips_what_is_not_a_file() {
    let d = temp("walk");
    std::fs::copy(catalogue_file(), d.join("ok.yaml")).unwrap();
    std::os::unix::fs::symlink(&d, d.join("loop")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.yaml")).unwrap();
    let fifo = Command::new("mkfifo")
        .arg(d.join("fifo.yaml"))
        .status()
        .is_ok_and(|s| s.success());
    let start = Instant::now();
    let files = collect(std::slice::from_ref(&d)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert_eq!(files, vec![d.join("ok.yaml")], "fifo made: {fifo}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn run_refuses_a_fifo_or_a_device_by_name_at_once() {
    let d = temp("run");
    let fifo = d.join("fifo.yaml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success(), "mkfifo");
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.yaml")).unwrap();
    for name in ["fifo.yaml", "zero.yaml"] {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_regsim"))
            .arg("run")
            .arg(d.join(name))
            .output()
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name}: {:?}",
            start.elapsed()
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{name}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn diagnose_refuses_a_fifo_and_an_endless_device() {
    let d = temp("diagnose");
    let fifo = d.join("job.log");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success(), "mkfifo");
    for target in [fifo.clone(), PathBuf::from("/dev/zero")] {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_regsim"))
            .arg("diagnose")
            .arg(&target)
            .output()
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{}: {:?}",
            target.display(),
            start.elapsed()
        );
        assert_eq!(out.status.code(), Some(2), "{}", target.display());
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
    }
    let _ = std::fs::remove_dir_all(&d);
}
