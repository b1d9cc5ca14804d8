//! containerd as the kubelet's runtime: the real containerd 1.6.20 (Debian's `containerd`), a
//! private instance with its CRI plugin on its own socket and state directories, answers the CRI
//! `PullImage` call the kubelet makes for the first image of each scenario, with the credentials
//! the runner resolves; the simulated containerd 1.6.20 answers the same call on the same mocks.
//! The gRPC code and message (or the image id) must be equal.

use crate::clients::first_pull;
use crate::table::{CONTAINERD_CRI, Check, Verdict};
use regsim_clients::containerd::{CriAuth, SimulatedContainerd, cri};
use regsim_model::versions::{containerd, v};
use regsim_model::world::World;
use regsim_servers::{Placement, Stage};
use std::time::Duration;

/// What the comparison prints for one outcome.
fn shown(r: &Result<String, cri::GrpcStatus>) -> String {
    match r {
        Ok(id) => format!("pulled {id}"),
        Err(status) => status.to_string(),
    }
}

pub async fn checks(scenarios: &[(String, World)], ci: bool) -> Vec<Check> {
    let root = std::env::temp_dir().join(format!("regsim-conformance-containerd-{}", std::process::id()));
    let real = match tokio::task::spawn_blocking(move || cri::RealContainerd::start(&root)).await {
        Ok(Ok(r)) => r,
        Ok(Err(why)) => {
            let why = format!("a private containerd with its CRI plugin could not start: {why}");
            if !ci {
                eprintln!("SKIPPED containerd CRI: {why}");
            }
            return scenarios
                .iter()
                .map(|(n, _)| Check::skipped(n, CONTAINERD_CRI, why.clone()))
                .collect();
        }
        Err(e) => return vec![Check::broken("(containerd)", CONTAINERD_CRI, e.to_string())],
    };
    let profile = containerd::profile(&v(1, 6, 20)).expect("1.6.20 is modelled");
    let mut out = Vec::new();
    for (name, world) in scenarios {
        out.push(one(name, world, &real, &profile).await);
    }
    drop(real);
    out
}

async fn one(name: &str, world: &World, real: &cri::RealContainerd, profile: &containerd::ContainerdProfile) -> Check {
    let not_compared = |why: String| Check {
        scenario: name.to_string(),
        client: CONTAINERD_CRI,
        what: "PullImage".into(),
        verdict: Verdict::NotCompared(why),
    };
    if world.runner.executor == regsim_model::world::Executor::Shell {
        return not_compared("the shell executor pulls no image".into());
    }
    if regsim::run::pulls_from_docker_hub(world) {
        return not_compared("pulls from Docker Hub, which has no name on 127.0.0.1".into());
    }
    // The containerd here pulls for linux/amd64 (CRI PullImage names no platform), so a node of
    // another platform is compared as an amd64 one: the exchange, the auth and the texts. Which
    // entry that node would take from an index is read from containerd's source
    // (docs/research/clients-inside-job.md §1.4c), not compared.
    let as_amd64 = world
        .cluster
        .as_ref()
        .map(|c| &c.platform)
        .filter(|p| **p != regsim_wire::platform::Platform::default())
        .map(|p| format!(" (the {p} node compared as a linux/amd64 one, as the containerd here is)"))
        .unwrap_or_default();
    let stage = match Stage::start(world, Placement::Loopback).await {
        Ok(s) => s,
        Err(e) => return Check::broken(name, CONTAINERD_CRI, e.to_string()),
    };
    // The calls the kubelet makes: for a kubernetes runner its keyring's, container by container;
    // otherwise the runner's first pull with the credentials it resolves.
    let calls: Vec<(String, Option<CriAuth>)> = if world.runner.kubernetes.is_some() {
        let payload = regsim_servers::gitlab::job_payload(&stage.world);
        match regsim_runner::executors::cri_requests(&stage.world, &payload) {
            Ok(r) => r
                .into_iter()
                .flat_map(|(image, auths)| auths.into_iter().map(move |a| (image.clone(), a)))
                .collect(),
            Err(m) => return not_compared(m.reason),
        }
    } else {
        let Some(pull) = first_pull(&stage) else {
            return not_compared(
                "the runner asks no registry (pull policy never, or a policy allowed_pull_policies refuses)".into(),
            );
        };
        let auth = match &pull.credentials {
            Some(c) if !c.registrytoken.is_empty() => {
                return not_compared("a registry token: containerd's CRI does not take one (ParseAuth TODO)".into());
            }
            Some(c) if !c.username.is_empty() || !c.identitytoken.is_empty() => Some(CriAuth {
                username: c.username.clone(),
                password: c.password.clone(),
                identity_token: c.identitytoken.clone(),
                ..Default::default()
            }),
            _ => None,
        };
        vec![(pull.image, auth)]
    };
    let simulated = SimulatedContainerd::new(profile.clone(), stage.network.clone());
    let (mut predicted_all, mut observed_all) = (Vec::new(), Vec::new());
    let mut unmodelled = None;
    for (image, auth) in &calls {
        let predicted = simulated.pull_image(image, auth.as_ref()).await;
        let observed = match cri::pull_image(&real.socket, image, auth.as_ref(), Duration::from_secs(60)).await {
            Ok(r) => r,
            Err(e) => return Check::broken(name, CONTAINERD_CRI, e.to_string()),
        };
        match predicted {
            Ok(p) => predicted_all.push(p),
            Err(m) => unmodelled = unmodelled.or(Some(m.reason)),
        }
        observed_all.push(observed);
    }
    // A mock that had to answer what its product's answer is not known for: nothing to compare.
    let unknown_answer = stage.journal.not_modelled().map(|(_, m)| m.reason);
    let observed_text = observed_all.iter().map(shown).collect::<Vec<_>>().join("\n");
    // What the real one said where regsim does not model it: the material for the next row.
    if let Some(why) = unmodelled.or(unknown_answer) {
        return not_compared(format!("{why}; the real containerd: {observed_text}"));
    }
    let predicted_text = predicted_all.iter().map(shown).collect::<Vec<_>>().join("\n");
    let observed = observed_all.last().cloned().expect("one call at least");
    let what = match &observed {
        Ok(_) => format!("PullImage: pulled{as_amd64}"),
        Err(st) => {
            let m: String = st.message.chars().take(90).collect();
            format!(
                "PullImage: {} {m}{}{as_amd64}",
                st.code.name(),
                if st.message.chars().count() > 90 { "…" } else { "" }
            )
        }
    };
    Check::compare(
        name,
        CONTAINERD_CRI,
        what,
        ("containerd 1.6.20", observed_text),
        ("simulated", predicted_text),
    )
}
