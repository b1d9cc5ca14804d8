//! Image content the mock registry serves: a tiny but real image (gzip layers, a config, a
//! schema 2 manifest), derived from the repository and tag so that every run serves the same
//! bytes and the real Docker daemon can pull and store it.

use flate2::{Compression, write::GzEncoder};
use regsim_wire::digest::sha256_digest;
use regsim_wire::media::{CONFIG_V1, LAYER_GZIP, MANIFEST_LIST_V2, MANIFEST_V2};
use regsim_wire::platform::Platform;
use regsim_wire::tar::one_file_tar;
use std::io::Write;

#[derive(Debug, Clone)]
pub struct Blob {
    pub digest: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub manifest: Blob,
    pub config: Blob,
    /// Base layer first, as in the manifest.
    pub layers: Vec<Blob>,
}

impl Image {
    /// Every blob the manifest references.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        std::iter::once(&self.config).chain(&self.layers)
    }
}

pub fn blob(media_type: &'static str, bytes: Vec<u8>) -> Blob {
    Blob {
        digest: sha256_digest(&bytes),
        media_type,
        bytes,
    }
}

/// The image stored as `registry/repository:tag`. The registry's name is part of the content so
/// that two scenarios never serve the same image: a daemon shared by concurrent runs would
/// otherwise list another run's repository in `RepoDigests`.
pub fn build(registry: &str, repository: &str, tag: &str, layers: usize) -> Image {
    build_for(registry, repository, tag, layers, &Platform::default(), None)
}

/// An image as Docker Hub holds it: built by Docker, so its config names the Docker release
/// (`docker_version`). Schema 1 conversions keep that field, and dockerd reads it: from 1.8.3 it
/// keeps the v1 JSON as it is (moby `noFallbackMinVersion`).
pub fn build_hub(registry: &str, repository: &str, tag: &str, layers: usize, platform: &Platform) -> Image {
    build_for(registry, repository, tag, layers, platform, Some(HUB_DOCKER_VERSION))
}

/// The Docker release regsim's Docker Hub images say built them. regsim's choice (the images are
/// synthetic); any release from 1.8.3 on behaves the same.
pub const HUB_DOCKER_VERSION: &str = "19.03.12";

/// A multi-platform image: the manifest list and one image per platform, in list order.
#[derive(Debug, Clone)]
pub struct MultiPlatform {
    pub list: Blob,
    pub images: Vec<(Platform, Image)>,
}

/// The manifest list (`manifest.list.v2+json`) over one image per platform.
pub fn build_list(registry: &str, repository: &str, tag: &str, layers: usize, platforms: &[Platform]) -> MultiPlatform {
    let images: Vec<(Platform, Image)> = platforms
        .iter()
        .map(|p| (p.clone(), build_hub(registry, repository, tag, layers, p)))
        .collect();
    let entries: Vec<serde_json::Value> = images
        .iter()
        .map(|(p, img)| {
            let mut platform = serde_json::json!({"architecture": p.architecture, "os": p.os});
            if let Some(v) = &p.variant {
                platform["variant"] = serde_json::json!(v);
            }
            serde_json::json!({
                "mediaType": MANIFEST_V2,
                "size": img.manifest.bytes.len(),
                "digest": img.manifest.digest,
                "platform": platform,
            })
        })
        .collect();
    let list = serde_json::json!({"schemaVersion": 2, "mediaType": MANIFEST_LIST_V2, "manifests": entries});
    MultiPlatform {
        list: blob(MANIFEST_LIST_V2, serde_json::to_vec_pretty(&list).expect("json")),
        images,
    }
}

/// The image for one platform. linux/amd64 keeps the bytes single-platform images always had
/// (snapshots hold their digests); other platforms differ in content and config.
fn build_for(
    registry: &str,
    repository: &str,
    tag: &str,
    layers: usize,
    platform: &Platform,
    docker_version: Option<&str>,
) -> Image {
    let label = if *platform == Platform::default() {
        tag.to_string()
    } else {
        format!("{tag} {platform}")
    };
    let tag = label.as_str();
    let mut blobs = Vec::new();
    let mut diff_ids = Vec::new();
    let mut history = Vec::new();
    for n in 0..layers.max(1) {
        let content = match n {
            0 => format!("regsim image {registry}/{repository}:{tag}\n"),
            n => format!("regsim image {registry}/{repository}:{tag} layer {n}\n"),
        };
        // Layer 0 keeps the bytes single-layer images always had (snapshots hold their digests).
        let (path, created_by) = match n {
            0 => (
                "regsim.txt".to_string(),
                format!("regsim {registry}/{repository}:{tag}"),
            ),
            n => (
                format!("regsim-{n}.txt"),
                format!("regsim {registry}/{repository}:{tag} #{n}"),
            ),
        };
        let (diff_id, layer) = layer(&path, &content);
        diff_ids.push(diff_id);
        blobs.push(layer);
        history.push(serde_json::json!({"created": "1970-01-01T00:00:00Z", "created_by": created_by}));
    }
    let mut config = serde_json::json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "config": {"Cmd": ["/regsim.txt"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
        "created": "1970-01-01T00:00:00Z",
    });
    if let Some(v) = &platform.variant {
        config["variant"] = serde_json::json!(v);
    }
    if let Some(v) = docker_version {
        config["docker_version"] = serde_json::json!(v);
    }
    let config = blob(CONFIG_V1, serde_json::to_vec(&config).expect("json"));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_V2,
        "config": {"mediaType": CONFIG_V1, "size": config.bytes.len(), "digest": config.digest},
        "layers": blobs.iter().map(|l| serde_json::json!({"mediaType": LAYER_GZIP, "size": l.bytes.len(), "digest": l.digest})).collect::<Vec<_>>(),
    });
    let manifest = blob(MANIFEST_V2, serde_json::to_vec_pretty(&manifest).expect("json"));
    Image {
        manifest,
        config,
        layers: blobs,
    }
}

/// One file in a gzip tar layer: (diff ID, blob).
fn layer(path: &str, content: &str) -> (String, Blob) {
    let tar = one_file_tar(path, content);
    let diff_id = sha256_digest(&tar);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar).expect("in-memory gzip");
    (diff_id, blob(LAYER_GZIP, gz.finish().expect("in-memory gzip")))
}

/// An image read back from a pushed manifest and the blobs the registry holds.
pub fn from_manifest(manifest: Blob, find: impl Fn(&str) -> Option<Blob>) -> Option<Image> {
    let m: serde_json::Value = serde_json::from_slice(&manifest.bytes).ok()?;
    let config = find(m["config"]["digest"].as_str()?)?;
    let layers = m["layers"]
        .as_array()?
        .iter()
        .map(|l| l["digest"].as_str().and_then(&find))
        .collect::<Option<Vec<_>>>()?;
    Some(Image {
        manifest,
        config,
        layers,
    })
}

#[cfg(test)]
mod tests {
    use regsim_wire::platform::Platform;
    #[test]
    fn images_are_deterministic_and_distinct() {
        let a = super::build("r", "a/b/c", "1", 1);
        assert_eq!(a.manifest.digest, super::build("r", "a/b/c", "1", 1).manifest.digest);
        assert_ne!(a.manifest.digest, super::build("r", "a/b/c", "2", 1).manifest.digest);
        assert_ne!(a.manifest.digest, super::build("r2", "a/b/c", "1", 1).manifest.digest);
    }

    #[test]
    fn a_list_holds_one_image_per_platform_and_amd64_is_the_plain_image() {
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        let l = super::build_list("r", "library/docker", "20.10.3", 1, &[Platform::default(), arm.clone()]);
        assert_eq!(
            l.images[0].1.manifest.digest,
            super::build_hub("r", "library/docker", "20.10.3", 1, &Platform::default())
                .manifest
                .digest
        );
        assert_ne!(l.images[1].1.manifest.digest, l.images[0].1.manifest.digest);
        let v: serde_json::Value = serde_json::from_slice(&l.list.bytes).unwrap();
        assert_eq!(v["manifests"][1]["platform"]["variant"], "v8");
    }
}
