//! Independent clients against the mocks: skopeo (Debian, containers/image) and the `oci-client`
//! crate pull the image the job pulls first, with the credentials the runner would hand to
//! Docker, and must be allowed or refused as the real dockerd was.

use crate::table::{Check, OCI_CLIENT, SKOPEO};
use regsim_clients::engine::AuthConfig;
use regsim_model::world::World;
use regsim_runner::services::split_name_and_version;
use regsim_servers::gitlab::job_payload;
use regsim_servers::{Placement, Stage};

/// The first image the runner asks Docker for (services come before the job's image), and the
/// credentials it resolves for it; `None` when the runner never asks a registry (pull policy
/// `never` only).
pub struct Pull {
    pub image: String,
    pub credentials: Option<AuthConfig>,
}

pub fn first_pull(stage: &Stage) -> Option<Pull> {
    let world = &stage.world;
    let payload = job_payload(world);
    // A service is pulled first, with the runner's own policies (a service has no pull_policy here).
    let requested = if payload.services.is_empty() {
        regsim_runner::pull_policies(world, &payload)
    } else {
        regsim_runner::runner_pull_policies(world)
    };
    let image = payload
        .services
        .first()
        .map(|s| split_name_and_version(&regsim_runner::expand::expand(&s.name, |k| payload.variable(k))).image_name)
        .unwrap_or_else(|| regsim_runner::expand::expanded_image(&payload));
    // The runner's allowed_pull_policies check comes before any request.
    let Ok(policies) = regsim_runner::pull::effective_pull_policies(
        world.runner.release.allowed_pull_policy_check,
        &image,
        &requested,
        &regsim_runner::pull::allowed_pull_policies(world),
    ) else {
        return None;
    };
    if policies.iter().all(|p| *p == regsim_wire::job_api::PullPolicy::Never) {
        return None;
    }
    // As the runner's release resolves it (a File variable may be dropped, helpers run); nothing
    // to compare where the release's choice is Go's map order.
    let resolution = regsim_runner::credentials::resolve_for_job(world, &payload, &image);
    if resolution.not_modelled.is_some() {
        return None;
    }
    let resolved = resolution.found;
    Some(Pull {
        image,
        credentials: resolved.map(|r| r.config),
    })
}

fn outcome(allowed: bool) -> String {
    if allowed { "pull allowed" } else { "pull refused" }.to_string()
}

/// Run inside `unshare -m`: a tmpfs where c/image writes as root, then the command. Without a
/// `/var/lib/containers` to mount on, a tmpfs over `/var/lib` (inside the namespace) makes one.
const SCRATCH_VAR_LIB_CONTAINERS: &str = "set -e
if [ ! -d /var/lib/containers ]; then mount -t tmpfs tmpfs /var/lib; mkdir -p /var/lib/containers; fi
mount -t tmpfs tmpfs /var/lib/containers
exec \"$@\"";

/// skopeo copies the image into a scratch directory (a real pull: manifest, config, layers).
/// `None` when the runner never asks a registry, so there is nothing to compare.
pub async fn skopeo(name: &str, world: &World, daemon_allowed: bool) -> Option<Check> {
    let stage = Stage::start(world, Placement::Loopback).await.unwrap();
    let pull = first_pull(&stage)?;
    let dir = std::env::temp_dir().join(format!("regsim-conformance-skopeo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // In a mount namespace with a tmpfs over /var/lib/containers: as root, c/image keeps its
    // blob-info cache there, and the machine's own directories stay as they were.
    let mut cmd = tokio::process::Command::new("unshare");
    cmd.args(["-m", "--", "sh", "-c", SCRATCH_VAR_LIB_CONTAINERS, "sh", "skopeo"]);
    // No credentials from the user's auth files: only what the runner would send.
    cmd.env("REGISTRY_AUTH_FILE", dir.with_extension("auth.json"))
        .args(["copy", "--quiet", "--src-tls-verify=false"]);
    match &pull.credentials {
        Some(c) if !c.registrytoken.is_empty() => {
            cmd.arg(format!("--src-registry-token={}", c.registrytoken));
        }
        Some(c) if !c.username.is_empty() => {
            cmd.arg(format!("--src-creds={}:{}", c.username, c.password));
        }
        _ => {
            cmd.arg("--src-no-creds");
        }
    }
    cmd.arg(format!("docker://{}", pull.image))
        .arg(format!("dir:{}", dir.display()));
    let out = match cmd.output().await {
        Ok(o) => o,
        Err(e) => return Some(Check::broken(name, SKOPEO, format!("skopeo: {e}"))),
    };
    let _ = std::fs::remove_dir_all(&dir);
    let result = if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    };
    Some(verdict(
        name,
        SKOPEO,
        &pull.image,
        daemon_allowed,
        "skopeo copy",
        result,
    ))
}

/// oci-client pulls manifest, config and layers over plain HTTP.
pub async fn oci_client(name: &str, world: &World, daemon_allowed: bool) -> Option<Check> {
    use oci_client::client::{ClientConfig, ClientProtocol};
    use oci_client::secrets::RegistryAuth;
    let stage = Stage::start(world, Placement::Loopback).await.unwrap();
    let pull = first_pull(&stage)?;
    // A name the client cannot parse is refused before any request, as Docker's client refuses
    // it (`invalid reference format`).
    let reference: oci_client::Reference = match pull.image.parse() {
        Ok(r) => r,
        Err(e) => {
            return Some(verdict(
                name,
                OCI_CLIENT,
                &pull.image,
                daemon_allowed,
                "oci-client pull",
                Err(e.to_string()),
            ));
        }
    };
    let auth = match &pull.credentials {
        Some(c) if !c.registrytoken.is_empty() => RegistryAuth::Bearer(c.registrytoken.clone()),
        Some(c) if !c.username.is_empty() => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
        _ => RegistryAuth::Anonymous,
    };
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    });
    let result = client
        .pull(
            &reference,
            &auth,
            vec![
                regsim_wire::media::LAYER_GZIP,
                oci_client::manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE,
            ],
        )
        .await;
    let result = result.map(|_| ()).map_err(|e| e.to_string());
    // GitLab's proxy up to 13.9 serves Docker Hub's schema 1 manifests, which this client does
    // not read at all: a limit of the client, not an answer about access.
    if let Err(e) = &result
        && e.contains("Unsupported schema version: 1")
    {
        return Some(Check {
            scenario: name.to_string(),
            client: OCI_CLIENT,
            what: format!("pull of {}", pull.image),
            verdict: crate::table::Verdict::NotCompared(format!(
                "oci-client reads no schema 1 manifests (\"{e}\"); dockerd and skopeo are compared here"
            )),
        });
    }
    Some(verdict(
        name,
        OCI_CLIENT,
        &pull.image,
        daemon_allowed,
        "oci-client pull",
        result,
    ))
}

/// The client's outcome against the real daemon's; what the client said when they differ.
fn verdict(
    name: &str,
    client: &'static str,
    image: &str,
    daemon_allowed: bool,
    label: &str,
    result: Result<(), String>,
) -> Check {
    let mut c = Check::compare(
        name,
        client,
        format!("{} of {image}", outcome(daemon_allowed)),
        ("real dockerd", outcome(daemon_allowed)),
        (label, outcome(result.is_ok())),
    );
    if let (crate::table::Verdict::Differ { right, .. }, Err(said)) = (&mut c.verdict, &result) {
        right.1.push('\n');
        right.1.push_str(said);
    }
    c
}
