//! Schema 1 signed manifests (`application/vnd.docker.distribution.manifest.v1+prettyjws`), as a
//! registry makes one from a schema 2 image for a client that does not accept schema 2: Docker
//! Hub did so for GitLab's Dependency Proxy up to 13.9, which sent no `Accept` header (MR !52805).
//!
//! The recipe is distribution's (v2.8.2; docs/research/schema1.md): `convertSchema2Manifest`
//! (registry/handlers/manifests.go) → `schema1.NewConfigManifestBuilder(...).Build`
//! (manifest/schema1/config_builder.go) → `schema1.Sign` → libtrust's `JSONSignature`
//! `PrettySignature("signatures")`. That Docker Hub runs the same recipe is inferred
//! (docs/research/dependency-proxy.md Q1); the conformance suite checks regsim's canonical bytes
//! against the reference registry's.
//!
//! What a client hashes is the *canonical* manifest, the signed payload without `signatures`; the
//! signature itself is checked by nobody on the pull path (moby only parses it). regsim signs
//! with one fixed ES256 key and RFC 6979 signatures, and stamps the scenario clock, so the bytes
//! never vary between runs.

use super::image::Image;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use p256::pkcs8::EncodePublicKey;
use regsim_wire::digest::sha256_digest;
use regsim_wire::go_json;
use std::sync::OnceLock;

pub const MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The gzipped empty tar distribution writes for layers a history entry marks `empty_layer`.
pub const EMPTY_GZIP_TAR: &str = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";

/// A signed schema 1 manifest.
#[derive(Debug, Clone)]
pub struct Schema1 {
    /// The pretty-signed JWS, as served.
    pub bytes: Vec<u8>,
    /// The signed payload (`Canonical`): what the digest is taken over.
    pub canonical: Vec<u8>,
    /// `Docker-Content-Digest`: sha256 of `canonical`.
    pub digest: String,
}

/// The registry's signing key: one per process (distribution generates one at start-up when none
/// is configured). Derived from a fixed scalar so that `kid` and signatures never vary.
fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use sha2::Digest;
        let scalar = sha2::Sha256::digest(b"regsim Docker Hub schema 1 signing key");
        SigningKey::from_slice(&scalar).expect("a SHA-256 value is a valid P-256 scalar here")
    })
}

/// libtrust's key ID: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32 (no
/// padding), in 12 groups of 4 joined by `:` (libtrust util.go `keyIDFromCryptoKey`).
fn key_id(key: &SigningKey) -> String {
    use sha2::Digest;
    let der = key
        .verifying_key()
        .to_public_key_der()
        .expect("a P-256 public key encodes");
    let hash = sha2::Sha256::digest(der.as_bytes());
    let b32 = data_encoding::BASE32_NOPAD.encode(&hash[..30]);
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("base32 is ASCII"))
        .collect::<Vec<_>>()
        .join(":")
}

/// One history entry of the image config, as distribution reads it (`image.History`).
struct HistoryEntry {
    created: String,
    created_by: String,
    author: Option<String>,
    comment: Option<String>,
    empty_layer: bool,
}

fn history_of(config: &serde_json::Value) -> Vec<HistoryEntry> {
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().map(str::to_string);
    config["history"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| HistoryEntry {
            // Go re-marshals `time.Time` as RFC 3339 with nanoseconds trimmed; regsim's images
            // already write that form.
            created: s(h, "created").unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            created_by: s(h, "created_by").unwrap_or_default(),
            author: s(h, "author").filter(|a| !a.is_empty()),
            comment: s(h, "comment").filter(|c| !c.is_empty()),
            empty_layer: h["empty_layer"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// `v1Compatibility` of a layer below the top (config_builder.go's `v1Compatibility` struct,
/// fields in its order, empty ones omitted).
fn v1_compatibility(id: &str, parent: &str, h: &HistoryEntry) -> String {
    let mut out = format!("{{\"id\":{}", go_json::string(id));
    if !parent.is_empty() {
        out.push_str(&format!(",\"parent\":{}", go_json::string(parent)));
    }
    if let Some(c) = &h.comment {
        out.push_str(&format!(",\"comment\":{}", go_json::string(c)));
    }
    out.push_str(&format!(
        ",\"created\":{},\"container_config\":{{\"Cmd\":[{}]}}",
        go_json::string(&h.created),
        go_json::string(&h.created_by)
    ));
    if let Some(a) = &h.author {
        out.push_str(&format!(",\"author\":{}", go_json::string(a)));
    }
    if h.empty_layer {
        out.push_str(",\"throwaway\":true");
    }
    out.push('}');
    out
}

/// `MakeV1ConfigFromConfig`: the config without `rootfs` and `history`, plus `id`, `parent` and
/// `throwaway`, re-marshalled from a map (keys sorted).
fn top_v1_compatibility(config: &[u8], id: &str, parent: &str, throwaway: bool) -> Result<String, String> {
    let mut m = go_json::raw_members(config)?;
    m.remove("rootfs");
    m.remove("history");
    m.insert("id".into(), go_json::raw(go_json::string(id)));
    if !parent.is_empty() {
        m.insert("parent".into(), go_json::raw(go_json::string(parent)));
    }
    if throwaway {
        m.insert("throwaway".into(), go_json::raw("true".into()));
    }
    Ok(go_json::object_of_raw(&m))
}

/// The schema 1 manifest of `image`, stored as `name:tag`, signed at `signed_at` (RFC 3339).
pub fn convert(image: &Image, name: &str, tag: &str, signed_at: &str) -> Result<Schema1, String> {
    let config: serde_json::Value =
        serde_json::from_slice(&image.config.bytes).map_err(|e| format!("the image config is not JSON: {e}"))?;
    let history = history_of(&config);
    if history.is_empty() {
        return Err("the image config has no history; distribution refuses to convert it".into());
    }
    // Build: walk the history oldest first; v1 IDs chain through their parents.
    let mut layers = image.layers.iter();
    let mut blob_for = |h: &HistoryEntry| -> Result<String, String> {
        if h.empty_layer {
            Ok(EMPTY_GZIP_TAR.to_string())
        } else {
            layers
                .next()
                .map(|l| l.digest.clone())
                .ok_or_else(|| "too many non-empty layers in History section".to_string())
        }
    };
    let mut fs_layers = Vec::new();
    let mut v1 = Vec::new();
    let mut parent = String::new();
    for h in &history[..history.len() - 1] {
        let blob_sum = blob_for(h)?;
        let hex = blob_sum.trim_start_matches("sha256:");
        let id = sha256_digest(format!("{hex} {parent}").as_bytes())
            .trim_start_matches("sha256:")
            .to_string();
        v1.push(v1_compatibility(&id, &parent, h));
        fs_layers.push(blob_sum);
        parent = id;
    }
    let top = history.last().expect("checked non-empty");
    let blob_sum = blob_for(top)?;
    let hex = blob_sum.trim_start_matches("sha256:");
    let mut seed = format!("{hex} {parent} ").into_bytes();
    seed.extend_from_slice(&image.config.bytes);
    let id = sha256_digest(&seed).trim_start_matches("sha256:").to_string();
    v1.push(top_v1_compatibility(
        &image.config.bytes,
        &id,
        &parent,
        top.empty_layer,
    )?);
    fs_layers.push(blob_sum);
    // The manifest lists the top layer first.
    fs_layers.reverse();
    v1.reverse();

    let canonical = manifest_text(
        name,
        tag,
        config["architecture"].as_str().unwrap_or(""),
        &fs_layers,
        &v1,
    );
    let bytes = sign(&canonical, signed_at);
    Ok(Schema1 {
        digest: sha256_digest(canonical.as_bytes()),
        canonical: canonical.into_bytes(),
        bytes,
    })
}

/// `json.MarshalIndent(m, "", "   ")` of `schema1.Manifest` (`schemaVersion` from the embedded
/// `Versioned` first; `mediaType` is empty and omitted).
fn manifest_text(name: &str, tag: &str, architecture: &str, fs_layers: &[String], v1: &[String]) -> String {
    let mut out = String::from("{\n   \"schemaVersion\": 1,\n");
    out.push_str(&format!("   \"name\": {},\n", go_json::string(name)));
    out.push_str(&format!("   \"tag\": {},\n", go_json::string(tag)));
    out.push_str(&format!("   \"architecture\": {},\n", go_json::string(architecture)));
    let entries = |key: &str, values: &[String]| {
        let items: Vec<String> = values
            .iter()
            .map(|v| format!("      {{\n         \"{key}\": {}\n      }}", go_json::string(v)))
            .collect();
        format!("[\n{}\n   ]", items.join(",\n"))
    };
    out.push_str(&format!("   \"fsLayers\": {},\n", entries("blobSum", fs_layers)));
    out.push_str(&format!("   \"history\": {}\n}}", entries("v1Compatibility", v1)));
    out
}

/// libtrust `NewJSONSignature(payload)`, `Sign(key)`, `PrettySignature("signatures")`.
fn sign(payload: &str, signed_at: &str) -> Vec<u8> {
    let bytes = payload.as_bytes();
    // formatLength: up to and including the last non-space byte before the closing brace.
    let close = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .expect("a JSON object");
    let last = bytes[..close]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .expect("a non-empty object");
    let format_length = last + 1;
    let format_tail = &payload[format_length..];
    let protected = format!(
        "{{\"formatLength\":{format_length},\"formatTail\":{},\"time\":{}}}",
        go_json::string(&URL_SAFE_NO_PAD.encode(format_tail)),
        go_json::string(signed_at)
    );
    let protected = URL_SAFE_NO_PAD.encode(protected);
    let signing_input = format!("{protected}.{}", URL_SAFE_NO_PAD.encode(bytes));
    let key = signing_key();
    let signature: Signature = key.sign(signing_input.as_bytes());
    let point = key.verifying_key().to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| URL_SAFE_NO_PAD.encode(c.expect("an uncompressed point"));
    // json.MarshalIndent(signatures, indent, indent) with the payload's indent, three spaces.
    let signatures = format!(
        "[\n      {{\n         \"header\": {{\n            \"jwk\": {{\n               \"crv\": \"P-256\",\n               \
         \"kid\": {},\n               \"kty\": \"EC\",\n               \"x\": {},\n               \"y\": {}\n            }},\n            \
         \"alg\": \"ES256\"\n         }},\n         \"signature\": {},\n         \"protected\": {}\n      }}\n   ]",
        go_json::string(&key_id(key)),
        go_json::string(&coordinate(point.x())),
        go_json::string(&coordinate(point.y())),
        go_json::string(&URL_SAFE_NO_PAD.encode(signature.to_bytes())),
        go_json::string(&protected),
    );
    format!(
        "{},\n   \"signatures\": {signatures}{format_tail}",
        &payload[..format_length]
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_look_like_libtrust_ones() {
        let id = key_id(signing_key());
        assert_eq!(id.len(), 12 * 4 + 11, "{id}");
        assert!(id.split(':').all(|g| g.len() == 4));
    }

    #[test]
    fn the_canonical_payload_is_the_signed_text_without_signatures() {
        let img = crate::image::build_hub("r", "library/alpine", "latest", 2, &Default::default());
        let m = convert(&img, "library/alpine", "latest", "2021-02-01T09:00:00Z").unwrap();
        let text = String::from_utf8(m.bytes.clone()).unwrap();
        let canonical = String::from_utf8(m.canonical.clone()).unwrap();
        let cut = text.find(",\n   \"signatures\"").unwrap();
        assert_eq!(format!("{}\n}}", &text[..cut]), canonical);
        assert!(text.ends_with("   ]\n}"), "{text}");
        assert_eq!(m.digest, sha256_digest(&m.canonical));
        let v: serde_json::Value = serde_json::from_slice(&m.bytes).unwrap();
        assert_eq!(v["fsLayers"].as_array().unwrap().len(), 2);
        assert_eq!(v["fsLayers"][0]["blobSum"], img.layers[1].digest.as_str());
        let top: serde_json::Value =
            serde_json::from_str(v["history"][0]["v1Compatibility"].as_str().unwrap()).unwrap();
        assert_eq!(top["architecture"], "amd64");
        assert!(top.get("rootfs").is_none());
        let below: serde_json::Value =
            serde_json::from_str(v["history"][1]["v1Compatibility"].as_str().unwrap()).unwrap();
        assert_eq!(top["parent"], below["id"]);
        // Deterministic: the same image signs to the same bytes.
        assert_eq!(
            m.bytes,
            convert(&img, "library/alpine", "latest", "2021-02-01T09:00:00Z")
                .unwrap()
                .bytes
        );
    }
}
