//! Schema 1 manifests across the wire: what the registry side converts and signs
//! (`regsim_servers::schema1`, distribution's conversion and libtrust's signature) the engine side
//! reads back (`regsim_clients::engine::schema1`, moby's verification and v1 config). The two
//! meet only here, as they do on the wire.

use regsim_clients::engine::schema1::{image_config, layers, parse, verify};

#[test]
fn a_converted_manifest_reads_back() {
    let img = regsim_servers::image::build_hub("r", "library/alpine", "latest", 2, &Default::default());
    let s = regsim_servers::schema1::convert(&img, "library/alpine", "latest", "2021-02-01T09:00:00Z").unwrap();
    let m = parse(&s.bytes).unwrap();
    assert_eq!(m.canonical, s.canonical);
    verify(&m).unwrap();
    let l = layers(&m).unwrap();
    assert_eq!(l[0].0, img.layers[0].digest);
    let config: serde_json::Value =
        serde_json::from_slice(&image_config(&m, &["sha256:aa".to_string(), "sha256:bb".to_string()]).unwrap())
            .unwrap();
    assert_eq!(config["rootfs"]["diff_ids"][1], "sha256:bb");
    assert_eq!(config["history"][0]["created_by"], "regsim r/library/alpine:latest");
    assert!(config.get("id").is_none());
}
