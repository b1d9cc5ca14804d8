//! containerd as the kubelet's runtime: the texts its resolver and its CRI `PullImage` produce,
//! per release (docs/research/clients-inside-job.md §1–§2). Only the era whose every row was read
//! in the source and seen from the real 1.6.20 is modelled; the others are refused by name.

use super::v;
use regsim_wire::NotModelled;
use semver::Version;

/// How a release words a pull that fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerdProfile {
    pub version: Version,
    pub source: &'static str,
}

/// containerd 1.4.12 – 1.4.13 and 1.5.5 – 1.6.24: `pulling from host HOST failed with status code
/// [manifests TAG]: STATUS`, `unexpected status: STATUS` for token refusals, `REF: not found`,
/// the `insufficient_scope` sentence after two 401s for one request (v1.6.20
/// `remotes/docker/resolver.go:283,302`, `authorizer.go:302,334,338-351`, `pkg/cri/server/image_pull.go:143`;
/// [OBS] `ctr` 1.6.20). Before 1.4.12 / 1.5.5 the status row is NOT CONFIRMED; from 1.6.25 the
/// status errors name method and URL (INFERRED from the error type for the manifest row); 2.1's
/// transfer service says `failed to resolve image`.
pub fn profile(version: &Version) -> Result<ContainerdProfile, NotModelled> {
    let in_era =
        (*version >= v(1, 4, 12) && *version < v(1, 5, 0)) || (*version >= v(1, 5, 5) && *version <= v(1, 6, 24));
    if !in_era {
        return Err(NotModelled::new(format!(
            "containerd {version}: only 1.4.12 – 1.4.13 and 1.5.5 – 1.6.24 are modelled (their resolver texts read \
             at v1.6.20 and seen from the real 1.6.20); clients-inside-job.md §1.2 has what is known of the others"
        )));
    }
    Ok(ContainerdProfile {
        version: version.clone(),
        source: "clients-inside-job.md §1.2 (v1.6.20 resolver.go, authorizer.go; [OBS] ctr 1.6.20)",
    })
}
