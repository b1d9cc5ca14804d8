//! `GET|HEAD /v2/<name>/manifests/<reference>` (distribution's manifest handler).

use super::{RegistryKind, base, error_as};
use crate::image::Image;
use crate::journal::Answer;
use regsim_wire::errcode::ErrorCode;
use std::sync::Arc;

pub fn get(kind: RegistryKind, images: &[(String, Arc<Image>)], name: &str, reference: &str) -> Answer {
    let found = if reference.starts_with("sha256:") {
        images.iter().find(|(_, i)| i.manifest.digest == reference)
    } else {
        images.iter().find(|(t, _)| t == reference)
    };
    match found {
        Some((_, img)) => {
            let m = &img.manifest;
            Answer::new(
                base(200)
                    .insert_header("Docker-Content-Digest", m.digest.as_str())
                    .insert_header("Etag", format!("\"{}\"", m.digest).as_str())
                    .set_body_raw(m.bytes.clone(), m.media_type),
                m.digest.clone(),
            )
        }
        None => {
            let detail = if reference.starts_with("sha256:") {
                serde_json::json!({"Name": name, "Revision": reference})
            } else {
                serde_json::json!({"Tag": reference})
            };
            error_as(
                kind,
                ErrorCode::ManifestUnknown,
                Some(detail),
                format!("no manifest {name}:{reference}"),
            )
        }
    }
}
