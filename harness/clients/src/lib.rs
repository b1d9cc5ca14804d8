//! The clients: the Docker engine on the runner host, simulated per version or a real dockerd
//! behind the same face, and the programs a job runs against it — the job image's Docker CLI and
//! sbt-native-packager. They reach the servers only over HTTP, in the words of `regsim-wire`.
//!
//! - `engine`: the Engine API's daemon (`simulated` per `versions::docker`, `real` for comparison).
//! - `containerd`: containerd as the kubelet's runtime (CRI `PullImage`), simulated per
//!   `versions::containerd`, and the real CRI client it is checked against.
//! - `kubelet`: the kubelet's pulls for a pod (its keyring from imagePullSecrets, one CRI call
//!   per matching credential) through the simulated containerd.
//! - `docker_cli`: the job image's Docker CLI per `versions::docker_cli`.
//! - `sbt`: sbt-native-packager's `docker:publish`.
//! - `kaniko`: kaniko's executor per `versions::kaniko` (its push-permission check).
//! - `containers_image`: podman and buildah per `versions::containers_tools` (containers/image's
//!   registry client, simulated or the real tools).
//! - `http`: the plain-HTTP client of the simulated side, built once per process.

pub mod containerd;
pub mod containers_image;
pub mod docker_cli;
pub mod engine;
pub mod http;
pub mod kaniko;
pub mod kubelet;
pub mod sbt;
