//! Schema 1 manifests, the form Docker Hub served GitLab's Dependency Proxy up to 13.9:
//!
//! - distribution 2.8.2 converts a schema 2 image for a client without `Accept`: its canonical
//!   payload (what the digest covers) must equal `mock::schema1::convert`'s, byte for byte;
//! - the real dockerd pulls a registry that holds only schema 1: the image ID and repo digest it
//!   stores must equal the simulated engine's (`engine::schema1`), which derives them the same way
//!   for Docker 19.03 (the engines regsim runs against pre-13.10 proxies).

use crate::reference::Reference;
use crate::seed;
use crate::table::{Check, SCHEMA1};
use regsim_clients::engine::real::RealDaemon;
use regsim_clients::engine::simulated::SimulatedEngine;
use regsim_servers::image::{self, Image};
use regsim_servers::schema1;
use regsim_wire::net::Network;
use regsim_wire::platform::Platform;
use std::sync::Arc;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

const REPOSITORY: &str = "library/alpine";
const TAG: &str = "latest";
const SIGNED_AT: &str = "2021-02-01T09:00:00Z";

fn hub_image(label: &str) -> Image {
    image::build_hub(
        &format!("docker.io (conformance {label})"),
        REPOSITORY,
        TAG,
        2,
        &Platform::default(),
    )
}

/// distribution 2.8.2's conversion against regsim's.
pub async fn distribution_converts_the_same(issuer: &str) -> Check {
    let scenario = "schema 1 conversion";
    let result = async {
        let registry = Reference::start("schema1", "http://127.0.0.1:1", issuer).await?;
        let img = hub_image("distribution");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let out = async {
            seed::push(registry.addr, issuer, now, REPOSITORY, TAG, &img).await?;
            let bearer = seed::token(issuer, now, &[(REPOSITORY, &["pull"])]);
            let r = reqwest::Client::new()
                .get(format!("http://{}/v2/{REPOSITORY}/manifests/{TAG}", registry.addr))
                .bearer_auth(bearer)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let content_type = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let digest = r
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = r.bytes().await.map_err(|e| e.to_string())?;
            let theirs = regsim_clients::engine::schema1::parse(&body)?;
            Ok::<_, String>((
                content_type,
                digest,
                String::from_utf8_lossy(&theirs.canonical).into_owned(),
            ))
        }
        .await;
        registry.stop().await;
        out
    }
    .await;
    let (content_type, digest, canonical) = match result {
        Ok(r) => r,
        Err(e) => return Check::broken(scenario, SCHEMA1, e),
    };
    let ours = match schema1::convert(&hub_image("distribution"), REPOSITORY, TAG, SIGNED_AT) {
        Ok(m) => m,
        Err(e) => return Check::broken(scenario, SCHEMA1, e),
    };
    Check::compare(
        scenario,
        SCHEMA1,
        "GET by tag without Accept: type, digest, canonical payload",
        ("distribution 2.8.2", format!("{content_type}\n{digest}\n{canonical}")),
        (
            "regsim",
            format!(
                "{}\n{}\n{}",
                schema1::MEDIA_TYPE,
                ours.digest,
                String::from_utf8_lossy(&ours.canonical)
            ),
        ),
    )
}

/// A registry that holds `alpine:latest` only as schema 1 (whatever the client accepts).
struct Schema1Only {
    manifest: schema1::Schema1,
    image: Image,
}

impl Respond for Schema1Only {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        if path == "/v2/" {
            return ResponseTemplate::new(200);
        }
        if path.contains("/manifests/") {
            return ResponseTemplate::new(200)
                .insert_header("Docker-Content-Digest", self.manifest.digest.as_str())
                .set_body_raw(self.manifest.bytes.clone(), schema1::MEDIA_TYPE);
        }
        if let Some((_, digest)) = path.rsplit_once("/blobs/")
            && let Some(b) = self.image.layers.iter().find(|l| l.digest == digest)
        {
            return ResponseTemplate::new(200).set_body_raw(b.bytes.clone(), "application/octet-stream");
        }
        ResponseTemplate::new(404)
    }
}

/// The real dockerd and the simulated Docker 19.03 and 20.10 pulling the same schema 1 image.
pub async fn dockerd_stores_the_same(daemon: Arc<RealDaemon>) -> Vec<Check> {
    let scenario = "schema 1 pull";
    let img = hub_image("dockerd");
    let manifest = match schema1::convert(&img, REPOSITORY, TAG, SIGNED_AT) {
        Ok(m) => m,
        Err(e) => return vec![Check::broken(scenario, SCHEMA1, e)],
    };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Schema1Only { manifest, image: img })
        .mount(&server)
        .await;
    let from = format!("{}/{REPOSITORY}", server.address());
    let name = format!("{from}:{TAG}");
    let _turn = daemon.take_turns(std::slice::from_ref(&name)).await;
    let real = async {
        daemon
            .create_image(&from, TAG, "")
            .await
            .map_err(|e| format!("{e:?}"))?;
        let i = daemon.inspect_image(&name).await.map_err(|e| format!("{e:?}"))?;
        daemon.remove_image(&name).await;
        Ok::<_, String>(format!("{}\n{}", i.id, i.repo_digests.join("\n")))
    }
    .await;
    let real = match real {
        Ok(r) => r,
        Err(e) => return vec![Check::broken(scenario, SCHEMA1, format!("the real dockerd: {e}"))],
    };
    let mut out = Vec::new();
    for version in ["19.03.15", "20.10.24"] {
        let v = regsim_model::versions::parse_version(version).expect("a version");
        let profile =
            regsim_model::versions::docker::profile(&v, regsim_model::versions::docker::ImageStore::Graphdriver)
                .expect("an engine row");
        // The engine dials only names its network table holds: here the mock's own address.
        let mut network = Network::default();
        let at = server.address();
        network.add(&at.ip().to_string(), at.port(), "/", *at);
        let engine = SimulatedEngine::new(profile, v, Platform::default(), network, Default::default());
        let simulated = async {
            engine
                .create_image(&from, TAG, "")
                .await
                .map_err(|e| format!("{e:?}"))?;
            let i = engine.inspect_image(&name).await.map_err(|e| format!("{e:?}"))?;
            Ok::<_, String>(format!("{}\n{}", i.id, i.repo_digests.join("\n")))
        }
        .await;
        out.push(Check::compare(
            scenario,
            SCHEMA1,
            format!("image ID and repo digest (simulated Docker {version})"),
            ("dockerd 20.10.24", real.clone()),
            (
                "simulated",
                simulated.unwrap_or_else(|e| format!("the simulated engine failed: {e}")),
            ),
        ));
    }
    out
}
