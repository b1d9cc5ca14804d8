//! Media types of manifests, configs and layers, as registries and clients write them.

/// Docker's image manifest, schema 2.
pub const MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker's manifest list.
pub const MANIFEST_LIST_V2: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// A signed schema 1 manifest (libtrust's pretty JWS).
pub const MANIFEST_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// The OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image index (a manifest list's OCI twin).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// An image config.
pub const CONFIG_V1: &str = "application/vnd.docker.container.image.v1+json";
/// A gzip tar layer.
pub const LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
