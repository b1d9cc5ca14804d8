//! `regsim explain`: on seed 000 the decoded token with an empty `access` next to what was asked,
//! the inbound allowlist rule as policy gave it, and the engine's translation into "pull access
//! denied" (and the whole text as a reviewed snapshot); every catalogue scenario explains
//! without error; and `--format mermaid` of every scenario is accepted by the npm `mermaid`
//! package's own parser (node; skipped with a message locally when node or the package is
//! missing, required under CI).

use regsim::explain::{Explanation, explain, html, mermaid, text};
use regsim::run::{Overrides, load, run_world};
use rstest::rstest;
use std::path::{Path, PathBuf};
use std::process::Command;

const SEED_000: &str = "scenarios/seed-000-allowlist-blocks-cross-project-pull.yaml";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `scenarios/NAME.yaml` as the catalogue shows it, whatever the checkout's absolute path.
fn shown(path: &Path) -> PathBuf {
    let parts: Vec<_> = path.components().collect();
    let at = parts
        .iter()
        .rposition(|c| c.as_os_str() == "scenarios")
        .expect("under scenarios/");
    parts[at..].iter().collect()
}

async fn explained(path: &Path) -> Explanation {
    let world = load(path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let report = run_world(&world, &shown(path))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    explain(&world, &report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_text_shows_token_rule_and_translation() {
    let x = explained(&root().join(SEED_000)).await;
    let t = text::render(&x, false);
    assert!(!t.contains('\x1b'), "no colour codes when colour is off:\n{t}");
    // Numbered exchanges with their request lines.
    assert!(t.contains("  3. dockerd → GitLab (gitlab.example.net)\n"), "{t}");
    assert!(t.contains("GET /jwt/auth?account=gitlab-ci-token&scope=repository%3Ayour%2Fproject%2Fimage%3Apull&service=container_registry HTTP/1.1"), "{t}");
    // The token as issued, decoded: nothing granted for what was asked.
    assert!(
        t.contains("asked:   repository:your/project/image:pull\n     granted: [] (nothing)"),
        "{t}"
    );
    assert!(t.contains("\"alg\":\"RS256\""), "{t}");
    assert!(t.contains("\"access\": []"), "{t}");
    assert!(t.contains("\"auth_type\": \"build\""), "{t}");
    // The rule, in GitLab's words, as policy decided it.
    assert!(
        t.contains(
            "⇒ dropped pull your/project/image: job token of your/app: your/project has the inbound allowlist on"
        ),
        "{t}"
    );
    // The registry's answer and the engine's wording.
    assert!(t.contains("error=\"insufficient_scope\""), "{t}");
    assert!(t.contains("TranslatePullError: the first error, \"denied: requested access to the resource is denied\", becomes HTTP 404 \"pull access denied for foobar.example.net/your/project/image"), "{t}");
    assert!(t.contains("(manager.go:237)"), "{t}");
    let why = t.split("Why:\n").nth(1).expect("a Why section");
    let links: Vec<&str> = why.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(links.len(), 6, "{why}");
    assert!(links[0].contains("CI_JOB_TOKEN of job 4242 in your/app"), "{why}");
    assert!(links[1].contains("your/project has the inbound allowlist on"), "{why}");
    assert!(
        links[2].contains("pull your/project/image dropped from the token (access granted: [])"),
        "{why}"
    );
    assert!(links[3].contains("registry answers 401: insufficient_scope"), "{why}");
    assert!(
        links[4].contains("the engine says HTTP 404 \"pull access denied"),
        "{why}"
    );
    assert!(links[5].contains("the job log says: ERROR: Job failed"), "{why}");
    // With colour on, refusals are red.
    assert!(text::render(&x, true).contains("\x1b[31m"));
    insta::with_settings!({
        snapshot_path => "../snapshots/explain",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("seed-000-allowlist-blocks-cross-project-pull", t);
    });
}

/// Every scenario explains: numbered steps, tokens that decode, and a chain for every failure.
#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_explains(#[files("../../scenarios/**/*.yaml")] path: PathBuf) {
    let x = explained(&path).await;
    let t = text::render(&x, false);
    assert!(!x.steps.is_empty(), "{t}");
    for (i, s) in x.steps.iter().enumerate() {
        assert_eq!(s.n, (i + 1).to_string(), "{t}");
    }
    for (i, tok) in x.tokens.iter().enumerate() {
        assert!(tok.decoded.is_ok(), "token #{} does not decode:\n{t}", i + 1);
    }
    if x.outcome.starts_with("fails") {
        assert!(!x.chain.is_empty(), "a failure gets a Why:\n{t}");
    }
    let d = mermaid::render(&x);
    assert!(d.starts_with("sequenceDiagram\n"), "{d}");
    well_formed(&html::render(&x), &path);
}

/// The HTML page is well-formed XML (the escaping held for every text the scenario and the mocks
/// gave it) with one `<svg>` drawing.
fn well_formed(page: &str, path: &Path) {
    let mut reader = quick_xml::Reader::from_str(page);
    let mut svgs = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e)) if e.name().0 == "svg" => svgs += 1,
            Ok(_) => {}
            Err(e) => panic!(
                "{}: the HTML page is not well-formed at byte {}: {e}",
                path.display(),
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(svgs, 1, "{}", path.display());
}

/// Dependency Proxy scenarios show GitLab's own requests to Docker Hub inside the request that
/// caused them, and the HS256 proxy token decoded without an `access` claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependency_proxy_nests_docker_hub_and_decodes_the_proxy_token() {
    let x = explained(&root().join("scenarios/dependency-proxy-guest-pulls-through-cache.yaml")).await;
    let t = text::render(&x, false);
    let proxy = x
        .tokens
        .iter()
        .find(|tok| tok.decoded.as_ref().is_ok_and(|d| d.header["alg"] == "HS256"))
        .unwrap_or_else(|| panic!("an HS256 proxy token:\n{t}"));
    assert!(proxy.access().is_none(), "{t}");
    let with_hub = x
        .steps
        .iter()
        .find(|s| !s.upstream.is_empty())
        .unwrap_or_else(|| panic!("a step with Docker Hub requests:\n{t}"));
    assert_eq!(with_hub.server, "GitLab", "{t}");
    assert!(
        with_hub
            .upstream
            .iter()
            .all(|u| u.client == "GitLab" && u.server == "Docker Hub"),
        "{t}"
    );
    assert!(t.contains("(GitLab asks Docker Hub before it answers:)"), "{t}");
    assert!(t.contains("⇒ granted pull through"), "{t}");
}

/// The parser check: every scenario's diagram through `node parse.mjs`, plus one broken diagram
/// that must be refused (so the check can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mermaid_parser_accepts_every_diagram() {
    let dir = root().join("tests/mermaid");
    let missing = if !dir.join("node_modules/mermaid").is_dir() {
        Some(
            "tests/mermaid/node_modules/mermaid is missing (make test-deps, or npm ci --prefix tests/mermaid)"
                .to_string(),
        )
    } else {
        Command::new("node")
            .arg("--version")
            .output()
            .err()
            .map(|e| format!("node does not run: {e}"))
    };
    if let Some(why) = missing {
        assert!(!in_ci(), "CI must parse the Mermaid diagrams: {why}");
        eprintln!("SKIPPED Mermaid parse check: {why}");
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("regsim-explain-mermaid-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut files = Vec::new();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    scenarios.sort();
    for seed in ["seed-000", "seed-001", "seed-002", "seed-004"] {
        assert!(
            scenarios
                .iter()
                .any(|p| p.file_name().unwrap().to_string_lossy().starts_with(seed)),
            "{seed} scenario"
        );
    }
    for path in &scenarios {
        let diagram = mermaid::render(&explained(path).await);
        let file = out_dir.join(format!("{}.mmd", path.file_stem().unwrap().to_string_lossy()));
        std::fs::write(&file, diagram).unwrap();
        files.push(file);
    }
    let broken = out_dir.join("broken.mmd");
    std::fs::write(&broken, "sequenceDiagram\n    dockerd->>gitlab\n").unwrap();

    let run = |files: &[PathBuf]| {
        Command::new("node")
            .arg(dir.join("parse.mjs"))
            .args(files)
            .output()
            .expect("node runs")
    };
    let out = run(&files);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mermaid rejects a diagram:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok: sequence ")).count(),
        files.len(),
        "{stdout}"
    );
    let refused = run(std::slice::from_ref(&broken));
    assert!(!refused.status.success(), "mermaid must reject a broken diagram");
    let _ = std::fs::remove_dir_all(&out_dir);
}
