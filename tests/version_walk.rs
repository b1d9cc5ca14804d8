//! Walks the version tables over failing scenarios and checks the job logs against the research
//! notes themselves (not against regsim's own tables):
//! - every gitlab-runner release tag regsim knows, on seed 000: the `(file.go:LINE:Ns)` suffix
//!   must be the one `docs/research/gitlab-runner.md` §1.2 lists for that tag;
//! - one engine per Docker era, on a refused pull and on a token-endpoint 401: the daemon's
//!   sentence must be the one `docs/research/docker-errors.md` §4(a)/(b) gives.

use regsim::run::{Overrides, load, run_world};
use regsim_model::versions::{parse_version, runner};
use semver::Version;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A row of §1.2: first tag, last tag, and the call site (`None`: no suffix).
type CallSiteRow = (Version, Version, Option<(String, u32)>);

fn research_call_sites(text: &str) -> Vec<CallSiteRow> {
    let section = text
        .split("### 1.2")
        .nth(1)
        .expect("§1.2 present")
        .split("Requested spot checks")
        .next()
        .unwrap();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| v") || l.starts_with("| ≤")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (range, site) = (cells[1], cells[2]);
        let (lo, hi) = match range.split_once(" – ") {
            Some((a, b)) => (parse_version(a).unwrap(), parse_version(b).unwrap()),
            None if range.starts_with("≤ ") => (Version::new(0, 0, 0), parse_version(&range["≤ ".len()..]).unwrap()),
            None => (parse_version(range).unwrap(), parse_version(range).unwrap()),
        };
        let site = site
            .split('`')
            .nth(1)
            .and_then(|s| s.split_once(':'))
            .map(|(f, l)| (f.to_string(), l.parse().unwrap()));
        rows.push((lo, hi, site));
    }
    assert!(rows.len() > 30, "parsed {} rows of §1.2", rows.len());
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_runner_tag_prints_the_researched_call_site() {
    let notes = root().join("docs/research/gitlab-runner.md");
    let text = std::fs::read_to_string(&notes).unwrap_or_else(|e| panic!("{}: {e}", notes.display()));
    let table = research_call_sites(&text);
    let scenario = root().join("scenarios/seed-000-allowlist-blocks-cross-project-pull.yaml");
    let mut set = tokio::task::JoinSet::new();
    for tag in runner::known_releases()
        .into_iter()
        .filter(|v| *v >= runner::OLDEST_MODELLED)
    {
        let want = table
            .iter()
            .find(|(lo, hi, _)| *lo <= tag && tag <= *hi)
            .unwrap_or_else(|| panic!("gitlab-runner {tag} is in no row of gitlab-runner.md §1.2"))
            .2
            .clone()
            .unwrap_or_else(|| panic!("gitlab-runner {tag}: §1.2 says no suffix, but regsim models it"));
        let scenario = scenario.clone();
        set.spawn(async move {
            let o = Overrides {
                runner: Some(tag.clone()),
                ..Default::default()
            };
            let w = load(&scenario, &o).unwrap_or_else(|e| panic!("{tag}: {e}"));
            let log = run_world(&w, &scenario)
                .await
                .unwrap_or_else(|e| panic!("{tag}: {e}"))
                .job_log
                .plain;
            (tag, want, log)
        });
    }
    let mut checked = 0;
    while let Some(r) = set.join_next().await {
        let (tag, (file, line), log) = r.unwrap();
        let suffixes: Vec<&str> = log
            .match_indices(".go:")
            .map(|(i, _)| &log[log[..i].rfind('(').unwrap()..])
            .collect();
        assert!(!suffixes.is_empty(), "{tag}: no suffix in\n{log}");
        for s in suffixes {
            assert!(
                s.starts_with(&format!("({file}:{line}:0s)")),
                "gitlab-runner {tag}: expected ({file}:{line}:0s), got {}",
                &s[..s.find(')').unwrap() + 1]
            );
        }
        checked += 1;
    }
    assert!(checked > 200, "walked {checked} tags");
}

/// docker-errors.md §4(a) (registry answers insufficient_scope) and §4(b) (token endpoint 401
/// with GitLab's JSON body), with H and the URL of each scenario filled in.
const SEED_000_DENIED: &[(&str, &str)] = &[
    (
        "1.13.1",
        "Error response from daemon: repository foobar.example.net/your/project/image not found: does not exist or no pull access",
    ),
    (
        "17.06.2",
        "Error response from daemon: repository foobar.example.net/your/project/image not found: does not exist or no pull access",
    ),
    (
        "18.09.9",
        "Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login'",
    ),
    (
        "19.03.15",
        "Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ),
    (
        "20.10.7",
        "Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ),
    (
        "20.10.24",
        "Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ),
    (
        "24.0.9",
        "Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ),
    (
        "28.5.2",
        "Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ),
];
const URL: &str = "https://your.gitlab.address.com:5000/v2/project_a/group/container/manifests/1.2.3";
fn token_401(docker: &str) -> String {
    let v = parse_version(docker).unwrap();
    let how = if v < Version::new(20, 10, 0) {
        format!("Get {URL}")
    } else if v < Version::new(20, 10, 8) {
        format!("Head {URL}")
    } else {
        format!("Head \"{URL}\"")
    };
    format!("Error response from daemon: {how}: unauthorized: HTTP Basic: Access denied")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_docker_era_prints_the_researched_sentence() {
    for (file, cases) in [
        (
            "seed-000-allowlist-blocks-cross-project-pull.yaml",
            SEED_000_DENIED
                .iter()
                .map(|(v, s)| (v.to_string(), s.to_string()))
                .collect::<Vec<_>>(),
        ),
        (
            "project-access-token-expired.yaml",
            [
                "18.09.9", "19.03.15", "20.10.0", "20.10.7", "20.10.8", "20.10.24", "23.0.6", "29.1.0",
            ]
            .iter()
            .map(|v| (v.to_string(), token_401(v)))
            .collect(),
        ),
    ] {
        let path = root().join("scenarios").join(file);
        for (docker, sentence) in cases {
            let mut text = std::fs::read_to_string(&path).unwrap();
            text = text.replace(
                "  version: 20.10.24\n",
                &format!("  version: {docker}\n  image_store: graphdriver\n"),
            );
            let tmp = std::env::temp_dir().join(format!("regsim-walk-{}-{docker}-{file}", std::process::id()));
            std::fs::write(&tmp, &text).unwrap();
            let w = load(&tmp, &Overrides::default()).unwrap_or_else(|e| panic!("{docker}: {e}"));
            let log = run_world(&w, &tmp).await.unwrap().job_log.plain;
            let _ = std::fs::remove_file(&tmp);
            let warn_or_error = log
                .lines()
                .find(|l| l.contains("Error response from daemon"))
                .unwrap_or_else(|| panic!("{docker}: {log}"));
            assert!(
                warn_or_error.contains(&format!("{sentence} (")),
                "Docker {docker} on {file}:\n  want {sentence}\n  got  {warn_or_error}"
            );
        }
    }
}
