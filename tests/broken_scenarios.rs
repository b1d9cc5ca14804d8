//! Broken scenario files get a clear, located error — file, line, column and field — never a
//! panic; `regsim run` exits 2 for them.

use regsim::run::{Overrides, load};
use std::path::PathBuf;

fn broken_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/broken")
}

#[test]
fn every_broken_file_is_located() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(broken_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = String::new();
    for f in &files {
        let shown = PathBuf::from("tests/broken").join(f.file_name().unwrap());
        let result = std::panic::catch_unwind(|| load(f, &Overrides::default()));
        let err = match result {
            Ok(Ok(_)) => panic!("{} loaded, but it is broken", f.display()),
            Ok(Err(e)) => e,
            Err(_) => panic!("{} made the loader panic", f.display()),
        };
        assert!(err.line.is_some() && err.column.is_some(), "not located: {err}");
        let msg = err.to_string();
        out.push_str(&msg.replacen(&f.display().to_string(), &shown.display().to_string(), 1));
        out.push('\n');
    }
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("broken-scenarios", out);
    });
}

#[test]
fn regsim_run_exits_2_on_a_broken_file() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regsim"))
        .arg("run")
        .arg(broken_dir().join("unknown-key.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown-key.yaml:") && err.contains("field `job.imagee`"),
        "{err}"
    );
}
