//! regsim's little shell (`harness/runner/src/shell.rs`) against busybox sh, the shell of
//! kaniko's debug image (Debian's busybox 1.35): the config.json lines .gitlab-ci.yml files
//! write, each run by both, the file compared byte for byte. Skipped without busybox; under
//! CI it is required.

use regsim_runner::shell::{REDIRECT, words};
use std::path::Path;
use std::process::Command;

const BUSYBOX: &str = "/bin/busybox";

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CI_REGISTRY", "registry.example.com"),
        ("CI_REGISTRY_USER", "gitlab-ci-token"),
        ("CI_REGISTRY_PASSWORD", "jobtokencfbebb97"),
        ("PUSH_USER", "project_42_bot_8f3b2a1c9d0e4f5a6b7c8d9e0f1a2b3c"),
        ("PUSH_TOKEN", "glpat-Xq7Rk2Ld9Wm4Tn8Bv3Hc"),
    ]
}

/// `echo … > FILE` lines; FILE is replaced by the test's own path.
const LINES: &[&str] = &[
    r#"echo "{\"auths\":{\"${CI_REGISTRY}\":{\"auth\":\"$(printf "%s:%s" "${PUSH_USER}" "${PUSH_TOKEN}" | base64)\"}}}" > FILE"#,
    r#"echo "{\"auths\":{\"${CI_REGISTRY}\":{\"auth\":\"$(printf "%s:%s" "${PUSH_USER}" "${PUSH_TOKEN}" | base64 | tr -d '\n')\"}}}" > FILE"#,
    r#"echo "{\"auths\":{\"$CI_REGISTRY\":{\"auth\":\"$(echo -n $CI_REGISTRY_USER:$CI_REGISTRY_PASSWORD | base64 -w 0)\"}}}" > FILE"#,
    r#"echo -n '{"auths":{}}' > FILE"#,
    r#"echo "{\"auths\":{\"$CI_REGISTRY\":{\"username\":\"$CI_REGISTRY_USER\",\"password\":\"$CI_REGISTRY_PASSWORD\"}}}" > FILE"#,
];

#[test]
fn config_json_lines_write_what_busybox_sh_writes() {
    if !Path::new(BUSYBOX).is_file() {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(!ci, "{BUSYBOX} is missing (Debian package busybox)");
        eprintln!("SKIPPED the shell oracle: no {BUSYBOX}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("regsim-shell-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let file = dir.join("config.json");
    let lookup = |k: &str| env().into_iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
    for line in LINES {
        let line = line.replace("FILE", &file.display().to_string());
        let _ = std::fs::remove_file(&file);
        let status = Command::new(BUSYBOX)
            .args(["sh", "-c", &line])
            .env_clear()
            .envs(env())
            .status()
            .expect("busybox runs");
        assert!(status.success(), "busybox sh failed on {line}");
        let real = std::fs::read(&file).expect("busybox wrote the file");
        let w = words(&line, &lookup).expect("regsim reads the line");
        let [echo, args @ .., redirect, _path] = w.as_slice() else {
            panic!("not an echo redirect: {w:?}");
        };
        assert_eq!((echo.as_str(), redirect.as_str()), ("echo", REDIRECT));
        let (newline, args) = match args.first().map(String::as_str) {
            Some("-n") => (false, &args[1..]),
            _ => (true, args),
        };
        let mut ours = args.join(" ");
        if newline {
            ours.push('\n');
        }
        assert_eq!(String::from_utf8_lossy(&real), ours, "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
