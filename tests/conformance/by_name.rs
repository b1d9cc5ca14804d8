//! The real dockerd by the scenario's own names, over HTTPS: every scenario that runs on
//! 127.0.0.1 in `dockerd via mock` runs again with its servers on their real names and ports in a
//! network and mount namespace of the suite's own (`regsim_servers::netns`: documentation-range
//! addresses on its `lo`, a bind-mounted hosts file and `/etc/docker`), a second dockerd 20.10.24
//! inside, certificates from one run-time authority pair valid at the machine's time, and the
//! daemon's trust set as the scenario says (certs.d written per scenario; the system store and
//! `insecure-registries` per dockerd). Its job log is compared with the simulated engine's, run
//! by the same names, byte for byte; the one rewrite is an expired certificate's "current time"
//! (each side's own clock). Scenarios take turns: their host names are shared. Where a job's
//! `docker:dind` service would trust otherwise than the runner host, a second dockerd plays the
//! service's daemon (the public CAs only).

use crate::daemon::text;
use crate::table::{Check, DOCKERD_BY_NAME, Verdict};
use regsim::run::run_by_name_on_real_daemon;
use regsim_clients::engine::real::RealDaemon;
use regsim_model::world::World;
use regsim_servers::netns::{self, Namespace};
use regsim_servers::pki::{self, Pki};
use regsim_servers::tls::pem_block;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The namespace and its dockerds end after this, whatever happens.
const LIMIT: Duration = Duration::from_secs(1800);

/// What one dockerd is started with: its system store holds the instance's CA, its
/// `insecure-registries`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DaemonKey {
    ca_in_system_store: bool,
    insecure_registries: Vec<String>,
}

fn key(world: &World) -> DaemonKey {
    let mut insecure = world.docker.tls.insecure_registries.clone();
    insecure.sort();
    DaemonKey {
        ca_in_system_store: world.docker.tls.ca_in_system_store,
        insecure_registries: insecure,
    }
}

/// A host name the namespace's hosts file can carry (IP literals and `localhost` need none).
fn named(host: &str) -> bool {
    host != "localhost" && host.parse::<std::net::IpAddr>().is_err()
}

/// "current time T" → "current time …": the one part of a log two clocks write differently.
fn without_current_time(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("current time ") {
            Some(i) => {
                let rest = &line[i + "current time ".len()..];
                let end = rest.find(' ').unwrap_or(rest.len());
                format!("{}current time …{}", &line[..i], &rest[end..])
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The checks of `scenarios` (name, file, world), in their order.
pub async fn checks(scenarios: Vec<(String, PathBuf, World)>, ci: bool) -> Vec<Check> {
    // A kubernetes runner's pulls are containerd's: the `containerd CRI` column compares them.
    let (kubernetes, scenarios): (Vec<_>, Vec<_>) = scenarios.into_iter().partition(|(_, _, w)| w.cluster.is_some());
    let mut skipped: Vec<Check> = kubernetes
        .iter()
        .map(|(n, _, _)| Check {
            scenario: n.clone(),
            client: DOCKERD_BY_NAME,
            what: "job log".into(),
            verdict: Verdict::NotCompared(
                "the kubernetes executor pulls through the node's containerd, compared in the containerd CRI column"
                    .into(),
            ),
        })
        .collect();
    skipped.extend(by_name(scenarios, ci).await);
    skipped
}

async fn by_name(scenarios: Vec<(String, PathBuf, World)>, ci: bool) -> Vec<Check> {
    if scenarios.is_empty() {
        return Vec::new();
    }
    if let Err(e) = netns::available() {
        let why = format!("the real dockerd by real host names: {e}");
        return vec![if ci {
            Check::broken("(every scenario)", DOCKERD_BY_NAME, why)
        } else {
            Check::skipped("(every scenario)", DOCKERD_BY_NAME, why)
        }];
    }
    // One address per host name of the whole catalogue: the hosts file is written once (Go's
    // resolver caches it for seconds).
    let mut hosts: Vec<String> = scenarios
        .iter()
        .flat_map(|(_, _, w)| {
            let hub = w.docker_hub.iter().flat_map(|_| {
                [
                    regsim_servers::docker_hub::REGISTRY_HOST,
                    regsim_servers::docker_hub::AUTH_HOST,
                ]
                .map(String::from)
            });
            pki::servers(w)
                .into_iter()
                .map(|(a, _)| a.host.to_ascii_lowercase())
                .chain(hub)
                .collect::<Vec<_>>()
        })
        .filter(|h| named(h))
        .collect();
    hosts.sort();
    hosts.dedup();
    if hosts.len() > 240 {
        return vec![Check::broken(
            "(every scenario)",
            DOCKERD_BY_NAME,
            "more than 240 host names",
        )];
    }
    let addresses: BTreeMap<String, Ipv4Addr> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), Ipv4Addr::new(192, 0, 2, 10 + i as u8)))
        .collect();
    let table: Vec<(Ipv4Addr, &str)> = addresses.iter().map(|(h, ip)| (*ip, h.as_str())).collect();
    let ns = match Namespace::create(&table, LIMIT) {
        Ok(ns) => ns,
        Err(e) => return vec![Check::broken("(every scenario)", DOCKERD_BY_NAME, e.to_string())],
    };
    let pki = match Pki::at(time::OffsetDateTime::now_utc()) {
        Ok(p) => Arc::new(p),
        Err(e) => return vec![Check::broken("(every scenario)", DOCKERD_BY_NAME, e.to_string())],
    };
    let mut groups: BTreeMap<DaemonKey, Vec<(String, PathBuf, World)>> = BTreeMap::new();
    for s in scenarios {
        groups.entry(key(&s.2)).or_default().push(s);
    }
    let mut out = Vec::new();
    for (key, group) in groups {
        let mut store = pem_block(pki.public.der());
        if key.ca_in_system_store {
            store.push_str(&pem_block(pki.private.der()));
        }
        let config = serde_json::json!({ "insecure-registries": key.insecure_registries }).to_string();
        let (dockerd, daemon) = match start_daemon(&ns, &config, &store).await {
            Ok(d) => d,
            Err(e) => {
                out.extend(group.iter().map(|(n, ..)| Check::broken(n, DOCKERD_BY_NAME, e.clone())));
                continue;
            }
        };
        // A `docker:dind` service's daemon is a daemon of its own, with a trust of its own (its
        // image's system store, no certs.d, no insecure registries) and no credentials: a second
        // dockerd plays it for every job with a dind service.
        let mut dind = None;
        for (name, file, world) in group {
            let daemon = if own_dind(&world) {
                if dind.is_none() {
                    dind = Some(start_dind(&ns, &pki).await);
                }
                match dind.as_ref().expect("just started") {
                    Ok((_, d)) => Arc::new((*daemon).clone().with_dind(d.clone())),
                    Err(e) => {
                        out.push(Check::broken(&name, DOCKERD_BY_NAME, e.clone()));
                        continue;
                    }
                }
            } else {
                daemon.clone()
            };
            out.push(one(&ns, &pki, &addresses, &daemon, &name, &file, &world).await);
        }
        drop(dind);
        drop(dockerd);
    }
    out
}

/// Whether the job has a `docker:…dind` service (whose daemon the job's CLI may talk to).
fn own_dind(world: &World) -> bool {
    world.job.services.iter().any(|(name, _)| {
        let s = regsim_runner::services::split_name_and_version(name);
        s.service.ends_with("docker") && s.version.contains("dind")
    })
}

/// A dockerd in the namespace with `config` as its daemon.json and `store` (PEM) as its system
/// store, and the client that talks to it.
async fn start_daemon<'a>(
    ns: &'a Namespace,
    config: &str,
    store: &str,
) -> Result<(regsim_servers::netns::Dockerd<'a>, Arc<RealDaemon>), String> {
    let d = ns.start_dockerd_with(config, Some(store)).map_err(|e| e.to_string())?;
    let real = RealDaemon::at(d.socket().to_path_buf())
        .await
        .map_err(|e| e.to_string())?;
    Ok((d, Arc::new(real)))
}

/// A dockerd playing a `docker:dind` service's daemon: the public CAs only.
async fn start_dind<'a>(
    ns: &'a Namespace,
    pki: &Pki,
) -> Result<(regsim_servers::netns::Dockerd<'a>, Arc<RealDaemon>), String> {
    start_daemon(ns, "{}", &pem_block(pki.public.der())).await
}

async fn one(
    ns: &Namespace,
    pki: &Arc<Pki>,
    addresses: &BTreeMap<String, Ipv4Addr>,
    daemon: &Arc<RealDaemon>,
    name: &str,
    file: &std::path::Path,
    world: &World,
) -> Check {
    let serve = |stage: &regsim_servers::Stage| {
        // certs.d as the scenario has it, for this scenario only.
        for (dir, der) in &stage.trust.certs_d {
            ns.trust(dir, &pem_block(der)).map_err(|e| e.to_string())?;
        }
        stage
            .serve_by_name(ns, |host| {
                if named(host) {
                    addresses.get(&host.to_ascii_lowercase()).copied()
                } else {
                    host.parse().ok().or(Some(Ipv4Addr::LOCALHOST))
                }
            })
            .map_err(|e| e.to_string())
    };
    // Layer statuses dockerd may drop can differ between runs: up to ATTEMPTS runs (see
    // daemon::settle).
    let mut runs = 0;
    let result = loop {
        runs += 1;
        let r = run_by_name_on_real_daemon(world, file, daemon.clone(), pki.clone(), serve).await;
        match &r {
            Ok((sim, real))
                if runs < crate::daemon::ATTEMPTS
                    && crate::daemon::only_racy_differs(
                        &without_current_time(&text(&sim.job_log)),
                        &without_current_time(&text(&real.job_log)),
                    ) =>
            {
                continue;
            }
            _ => break r,
        }
    };
    for dir in &world.docker.tls.certs_d {
        let _ = ns.distrust(dir);
    }
    match result {
        Ok((sim, real)) => crate::daemon::settle(
            name,
            DOCKERD_BY_NAME,
            "job log by real names over TLS, byte for byte (expired certificates' current time aside)",
            runs,
            ("simulated Docker 20.10.24", without_current_time(&text(&sim.job_log))),
            ("real dockerd 20.10.24", without_current_time(&text(&real.job_log))),
        ),
        Err(e) if e.not_modelled().is_some() => Check {
            scenario: name.to_string(),
            client: DOCKERD_BY_NAME,
            what: "job log".into(),
            verdict: Verdict::NotCompared(format!("regsim does not model this pull: {e}")),
        },
        Err(e) => Check::broken(name, DOCKERD_BY_NAME, e.to_string()),
    }
}
