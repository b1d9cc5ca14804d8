//! `regsim run --format junit|json`: the JUnit XML must pass the JUnit schema (`tests/schema/
//! junit.xsd`, checked by xmllint: skipped with a message locally when xmllint is missing,
//! required under CI), failures must carry the first difference, and the JSON document's field
//! names are pinned (docs/json-report.md).

use regsim::report::{self, Entry, Status};
use regsim::run::{Overrides, run_all};
use std::path::{Path, PathBuf};
use std::process::Command;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Three files: one as expected, one whose expectation is wrong (seed 000 told to succeed), one
/// broken.
async fn entries(dir: &Path) -> Vec<Entry> {
    let seed = std::fs::read_to_string(root().join("scenarios/seed-000-allowlist-blocks-cross-project-pull.yaml"))
        .expect("seed 000 scenario");
    let wrong = dir.join("wrong-expectation.yaml");
    // A scenario expecting success has nothing to fix, so the `fix:` block goes too.
    std::fs::write(
        &wrong,
        without_fix(&seed).replace("outcome: fails", "outcome: succeeds"),
    )
    .unwrap();
    let files = vec![
        root().join("scenarios/own-project-pulls.yaml"),
        wrong,
        root().join("tests/broken/invalid-yaml.yaml"),
    ];
    let results = run_all(&files, &Overrides::default()).await;
    files
        .into_iter()
        .zip(results)
        .map(|(file, result)| Entry { file, result })
        .collect()
}

/// The scenario text without its top-level `fix:` mapping.
fn without_fix(scenario: &str) -> String {
    let mut out = String::new();
    let mut in_fix = false;
    for line in scenario.lines() {
        if line.starts_with("fix:") {
            in_fix = true;
            continue;
        }
        if in_fix && line.starts_with(' ') {
            continue;
        }
        in_fix = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("regsim-reports-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_passes_the_schema_and_names_the_difference() {
    let dir = tempdir("junit");
    let entries = entries(&dir).await;
    let statuses: Vec<Status> = entries.iter().map(Entry::status).collect();
    assert_eq!(statuses, [Status::AsExpected, Status::NotAsExpected, Status::Broken]);
    let xml = report::junit::render(&entries);
    assert!(
        xml.contains(r#"<testsuites name="regsim" tests="3" failures="1" errors="1">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="image pull fails, expected it to succeed" type="not as expected">"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<error message="#), "{xml}");
    let file = dir.join("report.xml");
    std::fs::write(&file, &xml).unwrap();
    let schema = root().join("tests/schema/junit.xsd");
    match Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
    {
        Err(e) if !in_ci() => {
            eprintln!("SKIPPED JUnit schema check: xmllint not found ({e}); install Debian's libxml2-utils")
        }
        Err(e) => panic!("CI must validate the JUnit report, but xmllint did not run: {e}"),
        Ok(out) => assert!(
            out.status.success(),
            "xmllint rejects the JUnit report:\n{}\n{xml}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
    // The schema check can fail: a testcase without its required name is rejected.
    if let Ok(out) = Command::new("xmllint").arg("--version").output()
        && out.status.success()
    {
        let bad = dir.join("bad.xml");
        std::fs::write(&bad, xml.replacen("<testcase name=", "<testcase nom=", 1)).unwrap();
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&bad)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "the schema must reject a testcase without a name"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_field_names_are_pinned() {
    let dir = tempdir("json");
    let entries = entries(&dir).await;
    let v: serde_json::Value = serde_json::from_str(&report::json::render(&entries)).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&v), ["format", "summary", "scenarios"]);
    assert_eq!(v["format"], "regsim-report/1");
    assert_eq!(
        keys(&v["summary"]),
        ["scenarios", "as_expected", "not_as_expected", "broken"]
    );
    assert_eq!(
        keys(&v["scenarios"][0]),
        [
            "file",
            "status",
            "error",
            "name",
            "description",
            "seed",
            "seed_post",
            "versions",
            "derived",
            "exchange",
            "job_log",
            "outcome",
            "expected",
            "missing_lines",
            "first_difference"
        ]
    );
    assert_eq!(keys(&v["scenarios"][0]["versions"]), ["gitlab", "runner", "docker"]);
    assert_eq!(
        keys(&v["scenarios"][0]["exchange"][0]),
        ["server", "method", "target", "credentials", "status", "note", "rules"]
    );
    // Seed 000 told to succeed: its token answer carries the policy's decisions.
    let token_answer = v["scenarios"][1]["exchange"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"].as_str().unwrap().starts_with("/jwt/auth"))
        .expect("a /jwt/auth exchange");
    assert_eq!(keys(&token_answer["rules"][1]), ["verdict", "what", "because"]);
    assert_eq!(token_answer["rules"][1]["verdict"], "dropped");
    assert_eq!(token_answer["rules"][1]["what"], "pull your/project/image");
    assert_eq!(
        keys(&v["scenarios"][0]["job_log"]),
        [
            "text",
            "raw",
            "image_ready",
            "script",
            "script_exit_code",
            "continued",
            "sections"
        ]
    );
    let wrong = &v["scenarios"][1];
    assert_eq!(wrong["status"], "not_as_expected");
    assert_eq!(keys(&wrong["first_difference"]), ["message", "expected", "actual"]);
    assert_eq!(v["scenarios"][2]["status"], "broken");
    assert!(
        v["scenarios"][2]["error"]
            .as_str()
            .unwrap()
            .contains("invalid-yaml.yaml")
    );
}
