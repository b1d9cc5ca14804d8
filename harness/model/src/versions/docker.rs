//! Docker Engine (dockerd) behaviour per version: how it asks the registry for a manifest, how it
//! prints URLs and which words it uses when a pull is refused. Facts: docs/research/docker-errors.md
//! (§ numbers below); rows marked [OBS] were seen on the real Debian dockerd 20.10.24 (go1.19.8).
//!
//! "Where does Docker 19.03 differ?" — here, and only here.

use super::{Era, era, lookup, v};
use regsim_wire::NotModelled;
use semver::Version;

/// How the engine fetches a manifest by tag (§5.1 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestProbe {
    /// `GET /v2/<name>/manifests/<tag>` (1.13.1 – 19.03).
    Get,
    /// `HEAD …/manifests/<tag>`; on a non-2xx or no digest a `GET` of the same URL for the error
    /// details; then `GET …/manifests/<digest>` (20.10 →).
    HeadThenGet,
}

/// What a registry DENIED error (e.g. from `insufficient_scope`) becomes (§1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullDeniedWording {
    /// `repository %s not found: does not exist or no pull access` (1.13.1, 17.06).
    NotFoundOrNoPullAccess,
    /// `pull access denied for %s, repository does not exist or may require 'docker login'` (17.07 – 18.09).
    WithoutCause,
    /// the same `+ ": " + cause` (19.03 →).
    WithCause,
}

/// How an error response body is parsed (§1.2): vendored docker/distribution ≤ 2.8.2, or 2.8.3
/// with its Content-Type check (25.0 →).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorBodyParsing {
    /// distribution v2.8.1 (20.10): `{"details":…}` mapped for 401 and 429 only.
    Distribution281,
    /// distribution v2.8.2 (23, 24): adds the 403 `{"details":…}` → `denied: …` case.
    Distribution282,
    /// distribution v2.8.3 (25 →): non-JSON Content-Type → the body text is the message.
    Distribution283,
}

/// The daemon's message when an inspected image does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectNotFound {
    /// `no such image: REF: No such image: REF` [OBS dockerd 20.10.24+dfsg1, regsim's real-daemon test].
    Wrapped,
    /// `No such image: REF` (moby `ErrImageDoesNotExist`, gitlab-runner.md §4.4; release not pinned).
    Plain,
}

impl InspectNotFound {
    pub fn message(self, reference: &str) -> String {
        match self {
            InspectNotFound::Wrapped => format!("no such image: {reference}: No such image: {reference}"),
            InspectNotFound::Plain => format!("No such image: {reference}"),
        }
    }
}

/// One row of the engine table.
#[derive(Debug, Clone)]
pub struct EngineProfile {
    pub line: &'static str,
    pub manifest_probe: ManifestProbe,
    /// Go ≥ 1.14 prints `Op "URL": err`; older `Op URL: err` (§2). Depends on the Go that built
    /// dockerd; the value here is the upstream release build's.
    pub quoted_urls: bool,
    pub pull_denied: PullDeniedWording,
    pub error_body: ErrorBodyParsing,
    /// `GET /images/{name}/json` for an image that is not there.
    pub inspect_not_found: InspectNotFound,
    /// 1.13.1 – 17.06 fall back to the v1 protocol for registries other than Hub when the v2 error
    /// is UNAUTHORIZED, MANIFEST_UNKNOWN, NAME_UNKNOWN or `no basic auth credentials`, even after
    /// v2 was confirmed (`allowV1Fallback`, moby@v1.13.1:distribution/pull_v2.go:767-795). What
    /// the v1 attempt then prints is not traced (docker-errors.md §9), so regsim refuses there.
    pub v1_fallback: bool,
    /// 20.10.0 – 28.1: after resolving a tag, a manifest GET by digest that answers not found
    /// (DENIED, MANIFEST_UNKNOWN, NAME_UNKNOWN) is retried by tag, with a deprecation warning in
    /// the pull's progress stream only (moby 495d623 "Add fallback for pull by tag", in v20.10.0
    /// but not in v20.10.0-rc1; removed by f98b700 in v28.2.0; `isNotFound` in
    /// distribution/errors.go). Confirmed against the real dockerd 20.10.24.
    pub tag_fallback: bool,
    /// The User-Agent's version part, for the record only (never printed in a job log).
    pub go_version: &'static str,
    pub source: &'static str,
}

/// A Docker version as Docker writes it: 17.x – 19.x are year.month (`18.09.1`, `19.03.15`).
pub fn shown(v: &Version) -> String {
    if (17..=19).contains(&v.major) {
        format!("{}.{:02}.{}", v.major, v.minor, v.patch)
    } else {
        v.to_string()
    }
}

/// The engine table: one row per era, oldest first.
#[rustfmt::skip]
pub fn engine_table() -> Vec<Era<EngineProfile>> {
    use ErrorBodyParsing::*;
    use InspectNotFound::*;
    use ManifestProbe::*;
    use PullDeniedWording::*;
    let row = |since: Version, line, manifest_probe, quoted_urls, pull_denied, error_body, inspect_not_found, go_version, source| {
        let v1_fallback = since < V1_REMOVED;
        let tag_fallback = since >= v(20, 10, 0) && since < TAG_FALLBACK_REMOVED;
        era(since, EngineProfile { line, manifest_probe, quoted_urls, pull_denied, error_body, inspect_not_found, v1_fallback, tag_fallback, go_version, source }, source)
    };
    vec![
        //   since         line                       probe        quoted  pull denied             body parsing     inspect 404  Go build         source
        row(v(1, 13, 1),  "1.13.1",                  Get,         false,  NotFoundOrNoPullAccess, Distribution281, Plain,   "1.7.5",         "docker-errors.md §1.3, §2, §3 E1 [SRC moby@v1.13.1]; inspect text UNCONFIRMED"),
        row(v(17, 7, 0),  "17.07–18.09",             Get,         false,  WithoutCause,           Distribution281, Plain,   "1.8.3–1.11.13", "docker-errors.md §1.3, §3 E2 [SRC moby@v17.07.0-ce, v18.09.9]; inspect text UNCONFIRMED"),
        row(v(19, 3, 0),  "19.03",                   Get,         false,  WithCause,              Distribution281, Plain,   "1.12–1.13",     "docker-errors.md §1.3, §3 E3 [SRC moby@v19.03.15]; inspect text UNCONFIRMED"),
        row(v(20, 10, 0), "20.10.0–20.10.7",         HeadThenGet, false,  WithCause,              Distribution281, Wrapped, "1.13.15",       "docker-errors.md §2, §3 E4 [SRC pull_v2.go v20.10.0]; inspect text as observed on 20.10.24"),
        row(v(20, 10, 8), "20.10.8+",                HeadThenGet, true,   WithCause,              Distribution281, Wrapped, "1.16–1.19",     "docker-errors.md §3 E5, §7 [OBS dockerd 20.10.24+dfsg1 go1.19.8; inspect text OBS by tests/real_daemon.rs]"),
        row(v(23, 0, 0),  "23.0–24.0",               HeadThenGet, true,   WithCause,              Distribution282, Plain,   "1.19–1.20",     "docker-errors.md §1.2.3, §3 E5 [SRC moby@v23.0.18]; inspect text gitlab-runner.md §4.4"),
        row(v(25, 0, 0),  "25.0–28.1 (graphdriver)", HeadThenGet, true,   WithCause,              Distribution283, Plain,   "1.21–1.24",     "docker-errors.md §1.2.4, §3 E6 [SRC moby@v25.0.17]; inspect text gitlab-runner.md §4.4"),
        row(v(28, 2, 0),  "28.2–28.x (graphdriver)", HeadThenGet, true,   WithCause,              Distribution283, Plain,   "1.24",          "as 25.0–28.1; the pull-by-tag fallback is gone [SRC moby@v28.2.0 distribution/pull_v2.go]"),
        row(v(29, 0, 0),  "29.x (graphdriver)",      HeadThenGet, true,   WithCause,              Distribution283, Plain,   "1.25",          "docker-errors.md §1.3, §3 E7 [SRC docker-v29.7.2]; inspect text gitlab-runner.md §4.4"),
    ]
}

/// How the Go that built dockerd words a failed certificate check (docs/research/clients-tls.md
/// §2, §3). Upstream release builds; a distribution's build follows its own Go (Debian's 20.10.24
/// is go1.19.8, the same wording as the upstream row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsWording {
    /// Go ≥ 1.20 wraps every verification failure: `tls: failed to verify certificate: x509: …`.
    pub verify_wrapper: bool,
    /// Go ≥ 1.14 (inferred) adds `: current time T is after T2` to the expiry message.
    pub expiry_detail: bool,
}

/// The TLS-wording table, oldest first. Go per release: `GO_VERSION` in moby's Dockerfile at
/// each tag.
#[rustfmt::skip]
pub fn tls_table() -> Vec<Era<TlsWording>> {
    let row = |since, verify_wrapper, expiry_detail, source| era(since, TlsWording { verify_wrapper, expiry_detail }, source);
    vec![
        //   since          wrapper  detail  source
        row(v(1, 13, 1),   false,   false,  "Go 1.7.5–1.13.15 (moby@v1.13.1 … v20.10.7 Dockerfile); expiry detail from Go 1.14 INFERRED (golang/go#34646)"),
        row(v(20, 10, 8),  false,   true,   "Go 1.16.6–1.19.x (moby@v20.10.8 … v20.10.26 Dockerfile) [OBS dockerd 20.10.24+dfsg1 go1.19.8, tests/tls_real_daemon.rs]"),
        row(v(20, 10, 27), true,    true,   "Go 1.20.10 (moby@v20.10.27 Dockerfile); wrapper: Go 1.20 tls.CertificateVerificationError (api/go1.20.txt)"),
        row(v(23, 0, 0),   false,   true,   "Go 1.19.5–1.19.9 (moby@v23.0.0 … v23.0.6 Dockerfile)"),
        row(v(23, 0, 7),   true,    true,   "Go 1.20.7 → (moby@v23.0.7 Dockerfile; every later 23.0 and 24.0 → release on Go ≥ 1.20)"),
    ]
}

pub fn tls_wording(version: &Version) -> TlsWording {
    lookup(&tls_table(), version)
        .map(|e| e.value)
        .unwrap_or_else(|| tls_table()[0].value)
}

/// What the daemon writes into push and build streams (the CLI only relays them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamWording {
    /// `The push refers to a repository [%s]` (→ 17.10) or `The push refers to repository [%s]`.
    pub push_refers_to: &'static str,
    /// The builder's `Successfully tagged NAME` after `Successfully built ID`.
    pub successfully_tagged: bool,
    pub source: &'static str,
}

/// The stream-wording table, oldest first.
#[rustfmt::skip]
pub fn stream_table() -> Vec<Era<StreamWording>> {
    let row = |since, push_refers_to, successfully_tagged, source| era(since, StreamWording { push_refers_to, successfully_tagged, source }, source);
    vec![
        row(v(1, 13, 1),  "The push refers to a repository", false, "moby@v1.13.1 distribution/push.go:72, builder/dockerfile/builder.go:315 (no tagged line)"),
        row(v(17, 5, 0),  "The push refers to a repository", true,  "moby@v17.05.0-ce builder/dockerfile/builder.go:283; v17.06.0-ce api/server/backend/build/tag.go:39"),
        row(v(17, 11, 0), "The push refers to repository",   true,  "moby@v17.11.0-ce distribution/push.go (commit d82948b75d \"Reworded push message\"); v17.10.0-ce still says \"a repository\""),
    ]
}

pub fn stream_wording(version: &Version) -> StreamWording {
    lookup(&stream_table(), version)
        .map(|e| e.value.clone())
        .unwrap_or_else(|| stream_table()[0].value.clone())
}

/// The oldest engine the simulated one speaks for. 1.13.1 – 17.06 are modelled where they stay
/// on the v2 protocol (the mocks confirm v2 with `Docker-Distribution-Api-Version` on every
/// answer); where they would fall back to v1 the run stops with a "not modelled" error.
pub const OLDEST_MODELLED: Version = v(1, 13, 1);

/// 28.2 removed the pull-by-tag fallback (`EngineProfile::tag_fallback`).
pub const TAG_FALLBACK_REMOVED: Version = v(28, 2, 0);

/// 17.12 removed the v1-registry fallback (docker-errors.md §3 E1).
pub const V1_REMOVED: Version = v(17, 12, 0);

/// Releases between 1.13.1 and 17.06 (17.03, 17.05 …), which the research does not cover.
pub fn unresearched(version: &Version) -> bool {
    *version > v(1, 13, 1) && *version < v(17, 6, 0)
}

/// Which image store the engine uses. Docker 29 defaults to containerd on fresh installs
/// (docker-errors.md §3); the containerd resolver's texts are derived, not observed, and are not
/// modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStore {
    Graphdriver,
    Containerd,
}

/// The newest major release the engine table has a row for: later majors are refused rather
/// than run as if they were this one.
pub fn newest_major() -> u64 {
    engine_table().last().map_or(0, |e| e.since.major)
}

pub fn profile(version: &Version, store: ImageStore) -> Result<EngineProfile, NotModelled> {
    if version.major > newest_major() {
        return Err(NotModelled::new(format!(
            "Docker {} is newer than any release regsim knows ({OLDEST_MODELLED}–{}.x)",
            shown(version),
            newest_major()
        )));
    }
    if store == ImageStore::Containerd {
        return Err(NotModelled::new(format!(
            "Docker {version} with the containerd image store: its resolver texts are only derived from source \
             (docker-errors.md §4 C-rows) and are not modelled; set `docker.image_store: graphdriver`"
        )));
    }
    if unresearched(version) {
        return Err(NotModelled::new(format!(
            "Docker {}: releases between 1.13.1 and 17.06 are not in the research's tables (docker-errors.md §3)",
            shown(version)
        )));
    }
    if *version < OLDEST_MODELLED {
        return Err(NotModelled::new(format!(
            "Docker {}: engines before {OLDEST_MODELLED} are not modelled",
            shown(version)
        )));
    }
    lookup(&engine_table(), version)
        .map(|e| EngineProfile {
            v1_fallback: *version < V1_REMOVED,
            ..e.value.clone()
        })
        .ok_or_else(|| NotModelled::new(format!("Docker {version} is older than every row of the engine table")))
}

/// The image store a scenario gets when it does not say: containerd for 29 (fresh installs),
/// graphdriver before.
pub fn default_image_store(version: &Version) -> ImageStore {
    if *version >= v(29, 0, 0) {
        ImageStore::Containerd
    } else {
        ImageStore::Graphdriver
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_ten_quotes_from_twenty_ten_eight() {
        let g = ImageStore::Graphdriver;
        assert!(!profile(&v(20, 10, 7), g).unwrap().quoted_urls);
        assert!(profile(&v(20, 10, 8), g).unwrap().quoted_urls);
        assert!(profile(&v(20, 10, 24), g).unwrap().quoted_urls);
        assert_eq!(
            profile(&v(26, 1, 0), g).unwrap().error_body,
            ErrorBodyParsing::Distribution283
        );
        assert_eq!(profile(&v(19, 3, 15), g).unwrap().manifest_probe, ManifestProbe::Get);
        assert_eq!(
            profile(&v(18, 9, 1), g).unwrap().pull_denied,
            PullDeniedWording::WithoutCause
        );
        assert!(profile(&v(17, 6, 2), g).unwrap().v1_fallback);
        assert!(!profile(&v(18, 9, 1), g).unwrap().v1_fallback);
        assert!(profile(&v(17, 9, 0), g).unwrap().v1_fallback);
        assert!(profile(&v(1, 12, 6), g).is_err());
        assert!(profile(&v(29, 1, 0), ImageStore::Containerd).is_err());
        assert_eq!(
            profile(&v(99, 99, 99), g).unwrap_err().reason,
            "Docker 99.99.99 is newer than any release regsim knows (1.13.1–29.x)"
        );
        assert!(profile(&v(29, 7, 2), g).is_ok());
    }
}
