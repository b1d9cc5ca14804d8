//! How dockerd reads a schema 1 signed manifest and which image it stores from one: libtrust's
//! `ParsePrettySignature` (the payload is the text before `signatures` plus the protected
//! header's `formatTail`), moby's `verifySchema1Manifest` and `fixManifestLayers`, and the image
//! config `v1.MakeConfigFromV1Config` derives (its sha256 is the image ID). Sources: moby
//! v19.03.15 and v20.10.24 `distribution/pull_v2.go`, `image/v1/imagev1.go`; docker/libtrust
//! `jsonsign.go` (docs/research/schema1.md). The real dockerd 20.10 checks the image ID
//! (tests/conformance: schema 1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use regsim_wire::go_json;
use std::collections::BTreeMap;

/// A parsed schema 1 manifest.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The signed payload; the manifest's digest is taken over these bytes.
    pub canonical: Vec<u8>,
    pub schema_version: i64,
    /// Top layer first, as in the manifest.
    pub fs_layers: Vec<String>,
    /// `v1Compatibility` strings, top first.
    pub history: Vec<String>,
}

/// Why a schema 1 manifest could not be used: the daemon's own words, or a case regsim does not
/// model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Daemon(String),
    NotModelled(String),
}

/// `schema1.SignedManifest.UnmarshalJSON`: libtrust `ParsePrettySignature(b, "signatures")`, then
/// the payload unmarshalled.
pub fn parse(body: &[u8]) -> Result<SignedManifest, String> {
    let members: BTreeMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_slice(body).map_err(|e| format!("error unmarshalling content: {e}"))?;
    // libtrust ErrMissingSignatureKey; what gitlab#290944 saw for a list served as JSON.
    let signatures = members.get("signatures").ok_or("missing signature key")?;
    let blocks: Vec<serde_json::Value> =
        serde_json::from_str(signatures.get()).map_err(|e| format!("error unmarshalling signatures: {e}"))?;
    let mut format: Option<(usize, Vec<u8>)> = None;
    for block in &blocks {
        let protected = block["protected"].as_str().unwrap_or("");
        let header: serde_json::Value = URL_SAFE_NO_PAD
            .decode(protected.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("invalid protected header")?;
        let length = header["formatLength"].as_f64().ok_or("missing formatted length")? as usize;
        let tail = header["formatTail"]
            .as_str()
            .and_then(|t| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok())
            .ok_or("missing formatted tail")?;
        match &format {
            None => format = Some((length, tail)),
            Some((l, t)) if *l != length || *t != tail => return Err("mismatched format".into()),
            Some(_) => {}
        }
    }
    let (length, tail) = format.ok_or("no signatures")?;
    if length > body.len() {
        return Err("invalid format length".into());
    }
    let mut canonical = body[..length].to_vec();
    canonical.extend_from_slice(&tail);
    let m: serde_json::Value = serde_json::from_slice(&canonical).map_err(|e| e.to_string())?;
    let strings = |key: &str, field: &str| -> Vec<String> {
        m[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e[field].as_str().unwrap_or("").to_string())
            .collect()
    };
    Ok(SignedManifest {
        schema_version: m["schemaVersion"].as_i64().unwrap_or(0),
        fs_layers: strings("fsLayers", "blobSum"),
        history: strings("history", "v1Compatibility"),
        canonical,
    })
}

/// `verifySchema1Manifest` for a pull by tag (a pull by digest also checks the digest first).
pub fn verify(m: &SignedManifest) -> Result<(), String> {
    if m.schema_version != 1 {
        return Err(format!(
            "unsupported schema version {} for image manifest",
            m.schema_version
        ));
    }
    if m.fs_layers.len() != m.history.len() {
        return Err("length of history not equal to number of layers".into());
    }
    if m.fs_layers.is_empty() {
        return Err("no FSLayers in manifest".into());
    }
    Ok(())
}

/// One `v1Compatibility` entry as moby reads it (`image.V1Image`, the parts used here).
#[derive(serde::Deserialize)]
struct V1Image {
    #[serde(default)]
    id: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    author: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    container_config: ContainerConfig,
    #[serde(default)]
    throwaway: bool,
}

#[derive(serde::Deserialize, Default)]
struct ContainerConfig {
    #[serde(rename = "Cmd", default)]
    cmd: Option<Vec<String>>,
}

/// The layers to download, base first: (blobSum, throwaway). `fixManifestLayers` checks the
/// parent chain first.
pub fn layers(m: &SignedManifest) -> Result<Vec<(String, bool)>, Refusal> {
    let images = m
        .history
        .iter()
        .map(|h| serde_json::from_str::<V1Image>(h).map_err(|e| Refusal::Daemon(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, img) in images.iter().enumerate() {
        if img.id.len() != 64 || !img.id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Refusal::Daemon(format!("image ID '{}' is invalid", img.id)));
        }
        if let Some(below) = images.get(i + 1)
            && img.parent != below.id
        {
            return Err(Refusal::Daemon(format!(
                "invalid parent ID. Expected {}, got {}",
                below.id, img.parent
            )));
        }
        if i + 1 < images.len() && images[i + 1].id == img.id {
            // Consecutive duplicates are dropped by fixManifestLayers; regsim's images have none.
            return Err(Refusal::NotModelled(
                "a schema 1 manifest repeating a layer ID (fixManifestLayers drops duplicates)".into(),
            ));
        }
    }
    Ok(m.fs_layers
        .iter()
        .zip(&images)
        .rev()
        .map(|(b, img)| (b.clone(), img.throwaway))
        .collect())
}

/// The oldest `docker_version` whose v1 JSON moby keeps as it is (`noFallbackMinVersion`); older
/// or absent ones are re-marshalled through `image.V1Image`, which regsim does not model.
const NO_FALLBACK_MIN_VERSION: [u64; 3] = [1, 8, 3];

/// Docker's `versions.LessThan` for dotted versions (missing or non-numeric parts count 0).
fn less_than(v: &str, other: [u64; 3]) -> bool {
    let parts: Vec<u64> = v.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    for (i, o) in other.iter().enumerate() {
        let p = parts.get(i).copied().unwrap_or(0);
        if p != *o {
            return p < *o;
        }
    }
    false
}

/// `v1.MakeConfigFromV1Config(history[0].v1Compatibility, rootfs, history)`: the stored image
/// config; `diff_ids` are the downloaded layers' uncompressed digests, base first.
pub fn image_config(m: &SignedManifest, diff_ids: &[String]) -> Result<Vec<u8>, Refusal> {
    let top = m
        .history
        .first()
        .ok_or(Refusal::Daemon("no FSLayers in manifest".into()))?;
    let mut c = go_json::raw_members(top.as_bytes()).map_err(Refusal::Daemon)?;
    let docker_version = c
        .get("docker_version")
        .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
        .unwrap_or_default();
    if less_than(&docker_version, NO_FALLBACK_MIN_VERSION) {
        return Err(Refusal::NotModelled(format!(
            "a schema 1 image whose docker_version ({}) is older than 1.8.3: moby re-marshals it through \
             image.V1Image, whose exact JSON regsim does not reproduce",
            if docker_version.is_empty() {
                "none"
            } else {
                &docker_version
            }
        )));
    }
    for k in ["id", "parent", "Size", "parent_id", "layer_id", "throwaway"] {
        c.remove(k);
    }
    let ids: Vec<String> = diff_ids.iter().map(|d| go_json::string(d)).collect();
    let rootfs = if ids.is_empty() {
        r#"{"type":"layers"}"#.to_string()
    } else {
        format!(r#"{{"type":"layers","diff_ids":[{}]}}"#, ids.join(","))
    };
    c.insert("rootfs".into(), go_json::raw(rootfs));
    let mut history = Vec::new();
    for h in m.history.iter().rev() {
        let img: V1Image = serde_json::from_str(h).map_err(|e| Refusal::Daemon(e.to_string()))?;
        history.push(history_entry(&img)?);
    }
    c.insert("history".into(), go_json::raw(format!("[{}]", history.join(","))));
    Ok(go_json::object_of_raw(&c).into_bytes())
}

/// `v1.HistoryFromConfig`, marshalled as `image.History` (created, author, created_by, comment,
/// empty_layer; empty ones omitted).
fn history_entry(img: &V1Image) -> Result<String, Refusal> {
    let created = match &img.created {
        Some(t) => go_json::time(t).map_err(Refusal::Daemon)?,
        None => "0001-01-01T00:00:00Z".to_string(),
    };
    let mut out = format!("{{\"created\":{}", go_json::string(&created));
    if !img.author.is_empty() {
        out.push_str(&format!(",\"author\":{}", go_json::string(&img.author)));
    }
    let created_by = img.container_config.cmd.clone().unwrap_or_default().join(" ");
    if !created_by.is_empty() {
        out.push_str(&format!(",\"created_by\":{}", go_json::string(&created_by)));
    }
    if !img.comment.is_empty() {
        out.push_str(&format!(",\"comment\":{}", go_json::string(&img.comment)));
    }
    if img.throwaway {
        out.push_str(",\"empty_layer\":true");
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_without_signatures_is_refused_as_moby_does() {
        assert_eq!(
            parse(br#"{"schemaVersion":2,"manifests":[]}"#).unwrap_err(),
            "missing signature key"
        );
    }

    #[test]
    fn docker_versions_compare_as_docker_does() {
        assert!(less_than("", NO_FALLBACK_MIN_VERSION));
        assert!(less_than("1.8.2", NO_FALLBACK_MIN_VERSION));
        assert!(!less_than("1.8.3", NO_FALLBACK_MIN_VERSION));
        assert!(!less_than("20.10.7", NO_FALLBACK_MIN_VERSION));
    }
}
