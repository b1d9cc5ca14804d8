//! `make bench`: how fast regsim is, measured rather than asserted.
//!
//! 1. The whole catalogue (every scenario, each a real HTTP exchange), run concurrently as
//!    `regsim run scenarios/` does: wall time over several rounds. Goal: well under a second.
//! 2. Each scenario's job on loopback mocks, once with the simulated Docker 20.10.24 and once
//!    with the real dockerd (when one answers): the speed-up. Goal: ≥ 50×.
//! 4. `regsim serve` as a process under load: its resident memory after 50 000 requests, against
//!    the bound tests/serve_process.rs holds it to.
//! 3. One RS256 signature with the committed key: what each `/jwt/auth` answer costs (GitLab's
//!    job-token answers carry two, the token and its nested `user` token).
//! 5. `regsim diagnose` on one log once its index exists, with the shipped catalogue and with a
//!    synthetic one of 300 and more scenarios. Goal: ≤ 50 ms per log.

use regsim::run::{Overrides, collect, job_env, load, run_all, simulated_engine};
use regsim_clients::engine::Engine;
use regsim_clients::engine::real::RealDaemon;
use regsim_runner::expand::expanded_image;
use regsim_runner::run_job;
use regsim_servers::{Placement, Stage};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const ROUNDS: usize = 15;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let files = collect(std::slice::from_ref(&root)).expect("catalogue");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    // 1. The catalogue.
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let results = rt.block_on(run_all(&files, &Overrides::default()));
        times.push(t.elapsed());
        assert!(
            results.iter().all(|r| r.as_ref().is_ok_and(|r| r.ok())),
            "catalogue is not green"
        );
    }
    times.sort();
    let median = times[times.len() / 2];
    println!("catalogue: {} scenarios on {cores} cores, {ROUNDS} rounds", files.len());
    println!(
        "  wall time  min {:.1} ms · median {:.1} ms · max {:.1} ms  ({:.2} ms per scenario at the median)",
        ms(times[0]),
        ms(median),
        ms(times[times.len() - 1]),
        ms(median) / files.len() as f64
    );
    println!(
        "  goal: well under 1000 ms → {}",
        if median < Duration::from_millis(500) {
            "met"
        } else {
            "NOT met"
        }
    );

    // 3. (printed before 2, which needs a daemon) The cost of one registry JWT.
    let n = 200u32;
    let t = Instant::now();
    for i in 0..n {
        let token = regsim_servers::token::issue(regsim_servers::token::IssueRequest {
            key: regsim_servers::token::SigningKey::shared(),
            jti: format!("bench-{i}"),
            service: "container_registry",
            issuer: "gitlab-issuer",
            now: 1_700_000_000,
            expire_minutes: 5,
            sub: None,
            access: &[],
            meta: None,
            auth_type: "none",
            user_info: None,
        });
        std::hint::black_box(token);
    }
    println!(
        "one RS256 registry token: {:.0} µs to sign (RustCrypto `rsa`, jsonwebtoken's rust_crypto backend)",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );

    // 5. (before 2) diagnose: one log, its catalogue read from the index, on the shipped
    //    catalogue and on a synthetic one of 300+ scenarios. Goal: ≤ 50 ms per log.
    diagnose_per_log(&rt, &root);

    // 4. (before 2, which needs a daemon) serve's memory under load.
    serve_memory(&rt);

    // 2. Simulated vs real daemon, the same job on the same mocks.
    let daemon = match rt.block_on(RealDaemon::connect()) {
        Ok(d) => d,
        Err(e) => {
            println!("simulated vs real dockerd: skipped, no daemon answers ({e}); run `make dockerd` first");
            return;
        }
    };
    let overrides = Overrides {
        docker: Some(semver::Version::new(20, 10, 24)),
        ..Default::default()
    };
    let (mut sim_total, mut real_total) = (Duration::ZERO, Duration::ZERO);
    println!("simulated Docker 20.10.24 vs real dockerd, per job (median of 5, stage start excluded):");
    let mut skipped = 0;
    for f in &files {
        let world = load(f, &overrides).expect("scenario loads");
        // As tests/real_daemon.rs compares: jobs this daemon can run on loopback only (no Docker
        // Hub name on 127.0.0.1, the daemon's own platform), whose pull regsim models.
        if regsim::run::pulls_from_docker_hub(&world)
            || world.docker.platform != regsim_wire::platform::Platform::default()
        {
            skipped += 1;
            continue;
        }
        let timed = rt.block_on(async {
            let stage = Stage::start(&world, Placement::Loopback).await.expect("mocks start");
            let image = expanded_image(&regsim_servers::gitlab::job_payload(&stage.world));
            let mut s = Vec::new();
            let mut r = Vec::new();
            for _ in 0..5 {
                let engine = simulated_engine(&stage);
                stage.requeue_job();
                let t = Instant::now();
                if run_job(&job_env(&stage), &engine).await.is_err() {
                    return None;
                }
                s.push(t.elapsed());
                stage.requeue_job();
                daemon.remove_image(&image).await;
                let engine = Engine::Real(daemon.clone());
                let t = Instant::now();
                if run_job(&job_env(&stage), &engine).await.is_err() {
                    daemon.remove_image(&image).await;
                    return None;
                }
                r.push(t.elapsed());
                daemon.remove_image(&image).await;
            }
            s.sort();
            r.sort();
            Some((s[2], r[2]))
        });
        let Some((sim, real)) = timed else {
            skipped += 1;
            continue;
        };
        sim_total += sim;
        real_total += real;
        println!(
            "  {:<55} sim {:>7.2} ms   real {:>7.2} ms   ×{:.0}",
            world.name,
            ms(sim),
            ms(real),
            real.as_secs_f64() / sim.as_secs_f64()
        );
    }
    let ratio = real_total.as_secs_f64() / sim_total.as_secs_f64();
    println!("  ({skipped} scenarios not timed: Docker Hub, another platform, or a job regsim does not model)");
    println!(
        "  total: sim {:.1} ms, real {:.1} ms → simulated is {ratio:.0}× faster (goal ≥ 50×: {})",
        ms(sim_total),
        ms(real_total),
        if ratio >= 50.0 { "met" } else { "NOT met" }
    );
}

/// `regsim serve` on seed 000, 50 000 HEADs of a manifest from 8 clients, then its VmRSS.
fn serve_memory(rt: &tokio::runtime::Runtime) {
    use std::io::BufRead;
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/seed-000-allowlist-blocks-cross-project-pull.yaml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_regsim"))
        .arg("serve")
        .arg(&scenario)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("regsim serve starts");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let registry = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("GitLab container registry")
                .map(|r| r.trim().trim_start_matches("http://").to_string())
        })
        .expect("serve prints its registry");
    // serve prints every request: keep reading, or its writes block once the pipe is full.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    let url = format!("http://{registry}/v2/your/project/image/manifests/latest");
    let start = Instant::now();
    rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().expect("client");
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (client, url) = (client.clone(), url.clone());
            set.spawn(async move {
                for _ in 0..6250 {
                    client.head(&url).send().await.expect("serve answers");
                }
            });
        }
        while set.join_next().await.is_some() {}
    });
    let took = start.elapsed();
    let rss_kib: u64 = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "regsim serve: 50000 requests in {:.1} s ({:.0}/s); VmRSS after them {} MiB (bound {} MiB, tests/serve_process.rs)",
        took.as_secs_f64(),
        50_000.0 / took.as_secs_f64(),
        rss_kib / 1024,
        SERVE_RSS_BOUND_MIB
    );
}

/// `regsim diagnose` as a process spends it on one log once the index exists: reading the index
/// (which also checks it against every scenario file) and matching the log.
fn diagnose_per_log(rt: &tokio::runtime::Runtime, shipped: &std::path::Path) {
    use regsim::diagnose::{self, Knowledge};
    use regsim::run::Batch;
    let scratch = std::env::temp_dir().join(format!("regsim-bench-diagnose-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    // A catalogue of 300 and more: the shipped one, and each scenario again under another name.
    let synthetic = scratch.join("synthetic");
    std::fs::create_dir_all(&synthetic).expect("scratch");
    for copy in ["", "-again"] {
        for e in std::fs::read_dir(shipped).expect("catalogue") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "yaml") {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                std::fs::copy(&p, synthetic.join(format!("{stem}{copy}.yaml"))).expect("copy");
            }
        }
    }
    // SAFETY: the bench is single-threaded here; nothing else reads the environment now.
    unsafe { std::env::set_var("REGSIM_CACHE_DIR", scratch.join("cache")) };
    let log = std::fs::read(shipped.join("../tests/diagnose/seed-001.log")).expect("seed 001's log");
    for (what, dir) in [
        ("shipped catalogue", shipped.to_path_buf()),
        ("synthetic catalogue", synthetic.clone()),
    ] {
        let t = Instant::now();
        let (_, source) = rt
            .block_on(Knowledge::load_or_build(&dir, &Batch::default()))
            .expect("build");
        let build = t.elapsed();
        assert_eq!(source, diagnose::index::Source::Built);
        let mut times = Vec::new();
        let mut scenarios = 0;
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let (k, source) = rt
                .block_on(Knowledge::load_or_build(&dir, &Batch::default()))
                .expect("index");
            let d = diagnose::diagnose(&k, &log);
            times.push(t.elapsed());
            assert_eq!(source, diagnose::index::Source::Index);
            assert!(!d.candidates.is_empty());
            scenarios = k.entries.len();
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "diagnose, {what} ({scenarios} scenarios): first run {:.0} ms (runs the catalogue, writes the index); \
             then per log {:.1} ms median, {:.1} ms max over {ROUNDS} (reads and checks the index, matches) → goal ≤ 50 ms: {}",
            ms(build),
            ms(median),
            ms(times[times.len() - 1]),
            if median <= Duration::from_millis(50) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

/// tests/serve_process.rs's bound, repeated here so the bench can print it beside the figure.
const SERVE_RSS_BOUND_MIB: u64 = 64;
