//! The kubelet between a CRI error and the pod's waiting message (docs/research/
//! clients-inside-job.md §2): how each Kubernetes release shows containerd's gRPC status, and what
//! the back-off message says. The kubernetes executor will read these rows; its own lines are in
//! `versions::runner`.

use super::{Era, era, lookup, v};
use semver::Version;

/// How the kubelet turns a `PullImage` status into the `ErrImagePull` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusText {
    /// grpc-go's `rpc error: code = CODE desc = MESSAGE`, every code.
    Whole,
    /// `codes.Unknown` shows only its message; other codes keep the prefix.
    UnknownStripped,
}

#[rustfmt::skip]
pub fn status_text() -> Vec<Era<StatusText>> {
    use StatusText::*;
    vec![
        era(v(1, 0, 0),  Whole,           "[SRC] grpc-go status.Error text (containerd v1.6.20 vendor/google.golang.org/grpc/internal/status/status.go:140)"),
        era(v(1, 28, 0), UnknownStripped, "[SRC] kubernetes/cri-client@kubernetes-1.31.0 pkg/remote_image.go:201-204, from kubernetes#117612 (merged 2023-04-26; first in 1.28 INFERRED from the date)"),
    ]
}

/// The `ErrImagePull` message for a status of `code` (grpc-go's name) and `message`.
pub fn err_image_pull(kubelet: &Version, code: &str, message: &str) -> Option<String> {
    let table = status_text();
    let row = lookup(&table, kubelet)?;
    Some(match (row.value, code) {
        (StatusText::UnknownStripped, "Unknown") => message.to_string(),
        _ => format!("rpc error: code = {code} desc = {message}"),
    })
}

/// What the waiting message says during back-off: `Back-off pulling image "IMAGE"` before
/// kubernetes#127918, with `: ErrImagePull: LAST ERROR` after it (its first release, 1.32, is NOT
/// CONFIRMED, so releases from 1.32 are refused here).
pub fn back_off(kubelet: &Version, image: &str) -> Option<String> {
    (*kubelet < v(1, 32, 0)).then(|| format!("Back-off pulling image {image:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_goes_for_unknown_from_1_28() {
        let m = "failed to pull and unpack image \"r/a:1\": x";
        assert_eq!(
            err_image_pull(&v(1, 27, 3), "Unknown", m).unwrap(),
            format!("rpc error: code = Unknown desc = {m}")
        );
        assert_eq!(err_image_pull(&v(1, 28, 0), "Unknown", m).unwrap(), m);
        assert_eq!(
            err_image_pull(&v(1, 30, 0), "NotFound", m).unwrap(),
            format!("rpc error: code = NotFound desc = {m}")
        );
        assert_eq!(
            back_off(&v(1, 29, 0), "r/a:1").unwrap(),
            "Back-off pulling image \"r/a:1\""
        );
        assert_eq!(back_off(&v(1, 32, 0), "r/a:1"), None);
    }
}
