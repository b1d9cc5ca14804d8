//! The runner's credential-helper client against real helper binaries: Debian's
//! golang-docker-credential-helpers (`docker-credential-pass`, v0.6.4) and, where the Google
//! Cloud SDK is installed, `docker-credential-gcloud`. Each answer was first observed by hand
//! (docs/research/registries-identities.md §6); the test pins what the client makes of it.
//! A missing helper is a visible skip, and a failure under `CI=true`.

use regsim_runner::credentials::helper::{self, SystemHelpers};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn say(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// The directory holding `docker-credential-NAME`, or `None` after saying why.
fn helper_dir(name: &str, required_in_ci: bool) -> Option<PathBuf> {
    let found = ["/usr/bin", "/usr/local/bin"]
        .iter()
        .map(PathBuf::from)
        .find(|d| d.join(format!("docker-credential-{name}")).is_file());
    if found.is_none() {
        if in_ci() && required_in_ci {
            panic!(
                "CI must test the credential-helper client against docker-credential-{name} (golang-docker-credential-helpers)"
            );
        }
        say(&format!("skipped: docker-credential-{name} is not installed"));
    }
    found
}

/// A fresh, empty HOME for the helper (no password store, no gcloud account).
fn empty_home(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("regsim-helper-home-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn pass_helper_speaks_the_protocol() {
    let Some(dir) = helper_dir("pass", true) else {
        return;
    };
    let home = empty_home("pass");
    let helpers = SystemHelpers {
        dir,
        env: vec![("HOME".into(), home.display().to_string())],
    };
    // An empty password store: `list` answers an empty object …
    assert!(helper::list(&helpers, "pass").unwrap().is_empty());
    // … and v0.6.4's `get` answers empty credentials with status 0 — not "not found" — which
    // docker/cli, and so the runner, take as an entry with no user name.
    let got = helper::get(&helpers, "pass", "https://registry.example.com")
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.server_url.as_str(), got.username.as_str(), got.secret.as_str()),
        ("https://registry.example.com", "", "")
    );
    // A helper that is not there: Go's exec error, as the runner's client wraps it.
    let missing = helper::get(&helpers, "not-installed-here", "x").unwrap_err();
    assert_eq!(
        missing.to_string(),
        "error getting credentials - err: exec: \"docker-credential-not-installed-here\": executable file not found in $PATH, out: ``"
    );
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn gcloud_helper_without_an_account_fails_on_stdout() {
    // Installed with the Google Cloud SDK, not by a Debian package: never required.
    let Some(dir) = helper_dir("gcloud", false) else {
        return;
    };
    let home = empty_home("gcloud");
    let config = home.join("gcloud");
    std::fs::create_dir_all(&config).unwrap();
    let helpers = SystemHelpers {
        dir: dir.clone(),
        env: vec![
            ("HOME".into(), home.display().to_string()),
            ("CLOUDSDK_CONFIG".into(), config.display().to_string()),
            // Its Python wrapper finds python3 on PATH; the client sets PATH to `dir` only.
            ("CLOUDSDK_PYTHON".into(), python3().display().to_string()),
        ],
    };
    let listed = helper::list(&helpers, "gcloud").unwrap();
    assert_eq!(
        listed.get("https://gcr.io").map(String::as_str),
        Some("_dcgcloud_token")
    );
    let err = helper::get(&helpers, "gcloud", "https://gcr.io").unwrap_err();
    assert_eq!(err.err, "exit status 1");
    assert!(
        err.out
            .starts_with("You do not currently have an active account selected."),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(home);
}

fn python3() -> PathBuf {
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("python3"))
}
