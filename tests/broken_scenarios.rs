//! Broken scenario files get a clear, located error — file, line, column and field — never a
//! panic; `regsim run` exits 2 for them. Hostile files (huge, deeply nested, endlessly repeated)
//! are refused quickly, and scenario text reaches the terminal with its control characters
//! escaped.

use regsim::run::{Overrides, load, run_world};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn broken_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/broken")
}

/// Files too large to commit, written at run time: over the size cap, and nested far past the
/// depth cap (the inputs that took a minute, or would have run for ever, before the caps).
fn generated() -> Vec<(&'static str, Vec<u8>)> {
    let nested = |open: &str, close: &str, n: usize| format!("description: {}x{}\n", open.repeat(n), close.repeat(n));
    vec![
        (
            "larger-than-1-mib.yaml",
            format!("description: d\n#{}\n", "x".repeat(1 << 20)).into_bytes(),
        ),
        ("flow-nested-100k.yaml", nested("[", "]", 100_000).into_bytes()),
        (
            "flow-mappings-nested-100k.yaml",
            nested("{a: ", "}", 100_000).into_bytes(),
        ),
        ("flow-nested-to-1-mib.yaml", nested("[", "]", 520_000).into_bytes()),
        (
            "block-nested-1400.yaml",
            (0..1400)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect::<String>()
                .into_bytes(),
        ),
    ]
}

/// The generated files in a directory of the calling test's own (`tag`): tests run in parallel
/// in one process, and one removing a shared directory left the other reading nothing.
fn generated_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regsim-broken-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in generated() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    dir
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// The loader's error for a broken file, with the path as `shown`.
fn located_error(f: &Path, shown: &Path) -> String {
    let result = std::panic::catch_unwind(|| load(f, &Overrides::default()));
    let err = match result {
        Ok(Ok(_)) => panic!("{} loaded, but it is broken", f.display()),
        Ok(Err(e)) => e,
        Err(_) => panic!("{} made the loader panic", f.display()),
    };
    assert!(err.line.is_some() && err.column.is_some(), "not located: {err}");
    let msg = err.to_string();
    assert!(
        !msg.chars().any(char::is_control),
        "control characters printed: {msg:?}"
    );
    msg.replacen(&f.display().to_string(), &shown.display().to_string(), 1)
}

#[test]
fn every_broken_file_is_located() {
    let files = files_in(&broken_dir());
    assert!(files.len() >= 150, "the corpus has {} files", files.len());
    let mut out = String::new();
    for f in &files {
        out.push_str(&located_error(
            f,
            &Path::new("tests/broken").join(f.file_name().unwrap()),
        ));
        out.push('\n');
    }
    let dir = generated_dir("located");
    for f in files_in(&dir) {
        out.push_str(&located_error(
            &f,
            &Path::new("(generated)").join(f.file_name().unwrap()),
        ));
        out.push('\n');
    }
    std::fs::remove_dir_all(dir).ok();
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("broken-scenarios", out);
    });
}

/// Every broken file, committed or generated, is refused in well under a second. The bound is
/// 2 s so that a slow or busy machine cannot make it flake: the hostile inputs it guards against
/// took a minute (100 000 nested `[`) or never ended (a repeat of 4 294 967 295 runs).
#[test]
fn every_broken_file_is_refused_quickly() {
    let dir = generated_dir("quickly");
    for f in files_in(&broken_dir()).into_iter().chain(files_in(&dir)) {
        let started = Instant::now();
        let refused = load(&f, &Overrides::default()).is_err();
        let took = started.elapsed();
        assert!(refused, "{} loaded", f.display());
        assert!(took < Duration::from_secs(2), "{} took {took:?}", f.display());
    }
    std::fs::remove_dir_all(dir).ok();
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

const VALID: &str = "description: d\ngitlab: { version: 16.2.7, external_url: https://gitlab.example.com, registry: registry.example.com }\ngroups: [{ path: your, members: { alice: maintainer } }]\nprojects: [{ path: your/project, created_in: 16.0.0, images: ['your/project/image:latest'] }]\njob: { project: your/project, user: alice, image: IMAGE }\nrunner: { version: 16.2.0 }\ndocker: { version: 20.10.24 }\nexpect: { outcome: OUTCOME }\n";

fn scenario_file(name: &str, bytes: &[u8]) -> PathBuf {
    let f = std::env::temp_dir().join(format!("regsim-{name}-{}.yaml", std::process::id()));
    std::fs::write(&f, bytes).unwrap();
    f
}

#[test]
fn a_file_that_starts_with_a_byte_order_mark_loads() {
    let text = VALID
        .replace("IMAGE", "registry.example.com/your/project/image:latest")
        .replace("OUTCOME", "succeeds");
    let f = scenario_file("bom", &[b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat());
    let loaded = load(&f, &Overrides::default());
    std::fs::remove_file(&f).ok();
    loaded.unwrap();
}

/// A name over distribution's 255 characters never reaches a registry: the runner's Docker
/// client refuses it with `ErrNameTooLong`, and that is what the log says — for a name of a
/// megabyte's order too (it was `request to the mock failed: builder error`).
#[tokio::test]
async fn a_huge_image_name_gets_dockers_refusal_in_the_log() {
    let image = format!("registry.example.com/your/project/{}:latest", "a".repeat(1 << 19));
    let text = VALID.replace("IMAGE", &image).replace("OUTCOME", "fails");
    let f = scenario_file("huge-image", text.as_bytes());
    let world = load(&f, &Overrides::default()).expect("loads: the refusal is Docker's, in the log");
    let report = run_world(&world, &f).await.expect("runs");
    std::fs::remove_file(&f).ok();
    let log = &report.job_log.plain;
    assert!(
        log.contains("Failed to pull image with policy \"always\": repository name must not be more than 255 characters (manager.go:237:0s)"),
        "{}",
        &log[log.len().saturating_sub(600)..]
    );
    assert!(!log.contains("request to the mock failed"));
}

/// Scenario text in the text report has its control characters escaped; the job log's bytes
/// (colours in `--raw`) are the runner's.
#[test]
fn control_characters_in_a_description_are_escaped_outside_the_log() {
    let text = VALID
        .replace("description: d", "description: \"\\e]0;owned\\a\\e[2Jred\"")
        .replace("IMAGE", "registry.example.com/your/project/image:latest")
        .replace("OUTCOME", "succeeds");
    let f = scenario_file("escapes", text.as_bytes());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regsim"))
        .args(["run", "--raw"])
        .arg(&f)
        .output()
        .unwrap();
    std::fs::remove_file(&f).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\\u{1b}]0;owned\\u{7}\\u{1b}[2Jred"), "{stdout}");
    let (before_log, log) = stdout.split_once("--- job log (raw bytes) ---").unwrap();
    assert!(!before_log.contains('\u{1b}'), "{before_log:?}");
    assert!(log.contains("\u{1b}[0;m"), "the raw log keeps its colours");
}
