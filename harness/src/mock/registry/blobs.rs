//! `GET|HEAD /v2/<name>/blobs/<digest>`.

use super::{Flavor, Reply, base, error_as};
use crate::mock::errcode;
use crate::mock::image::Image;
use std::sync::Arc;

pub fn get(flavor: Flavor, images: &[(String, Arc<Image>)], digest: &str) -> Reply {
    let blob = images
        .iter()
        .flat_map(|(_, i)| [&i.config, &i.layer])
        .find(|b| b.digest == digest);
    match blob {
        Some(b) => Reply {
            response: base(200)
                .insert_header("Docker-Content-Digest", b.digest.as_str())
                .insert_header("Etag", format!("\"{}\"", b.digest).as_str())
                .insert_header("Cache-Control", "max-age=31536000")
                .insert_header("Accept-Ranges", "bytes")
                .set_body_raw(b.bytes.clone(), "application/octet-stream"),
            status: 200,
            note: format!("{} bytes", b.bytes.len()),
        },
        None => error_as(
            flavor,
            &errcode::BLOB_UNKNOWN,
            Some(serde_json::Value::String(digest.to_string())),
            "no such blob",
        ),
    }
}
