//! gitlab-runner's feature flags per minor release: which flags a release declares, in which
//! order, with which default (`helpers/featureflags/flags.go`, read at every tag vX.Y.0 from
//! v13.9.0 to v19.3.0 and tabulated mechanically; patch releases are taken to declare what their
//! minor's .0 tag declares [INFERRED]). The header line `  feature flags: A:true, B:false` lists
//! the flags whose effective value differs from the default, in declaration order
//! (`getFeatureFlagInfo`, [SRC] common/build.go v13.9.0:1346-1366, v16.2.0:1481-1505,
//! v19.3.0:2363-2390). The effective value: config.toml's `[runners.feature_flags]` when it sets
//! the flag (from v13.11.0), else a job variable of that name, else the default
//! ([SRC] v16.2.0 build.go:1468, v19.3.0 common/build_settings.go:258).

use super::v;
use regsim_wire::NotModelled;
use semver::Version;
use std::collections::BTreeMap;

/// Minor releases covered, in order; "consecutive" below means consecutive in this list.
pub static MINOR_RELEASES: &[Minor] = &[
    (13, 9),
    (13, 10),
    (13, 11),
    (13, 12),
    (14, 0),
    (14, 1),
    (14, 2),
    (14, 3),
    (14, 4),
    (14, 5),
    (14, 6),
    (14, 7),
    (14, 8),
    (14, 9),
    (14, 10),
    (15, 0),
    (15, 1),
    (15, 2),
    (15, 3),
    (15, 4),
    (15, 5),
    (15, 6),
    (15, 7),
    (15, 8),
    (15, 9),
    (15, 10),
    (15, 11),
    (16, 0),
    (16, 1),
    (16, 2),
    (16, 3),
    (16, 4),
    (16, 5),
    (16, 6),
    (16, 7),
    (16, 8),
    (16, 9),
    (16, 10),
    (16, 11),
    (17, 0),
    (17, 1),
    (17, 2),
    (17, 3),
    (17, 4),
    (17, 5),
    (17, 6),
    (17, 7),
    (17, 8),
    (17, 9),
    (17, 10),
    (17, 11),
    (18, 0),
    (18, 1),
    (18, 2),
    (18, 3),
    (18, 4),
    (18, 5),
    (18, 6),
    (18, 7),
    (18, 8),
    (18, 9),
    (18, 10),
    (18, 11),
    (19, 0),
    (19, 1),
    (19, 2),
    (19, 3),
];

/// (name, from_minor, until_minor_exclusive, default): one maximal run of consecutive minor releases in which
/// `name` is declared in helpers/featureflags/flags.go with that DefaultValue. until = first minor release
/// (from MINOR_RELEASES) where it is removed or its default changes; None = still so in the newest tag.
/// Rows are ordered by DECLARATION_ORDER, then by from_minor.
/// A minor release, `(major, minor)`.
type Minor = (u64, u64);

/// `(name, first minor, first minor without this row, default)`.
pub type FlagRow = (&'static str, Minor, Option<Minor>, bool);

pub static FEATURE_FLAG_ROWS: &[FlagRow] = &[
    ("FF_TEST_FEATURE", (16, 9), None, false), // [SRC] helpers/featureflags/flags.go v16.9.0 (last: v19.3.0)
    (
        "FF_CMD_DISABLE_DELAYED_ERROR_LEVEL_EXPANSION",
        (13, 9),
        Some((17, 0)),
        false,
    ), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v16.11.0)
    ("FF_NETWORK_PER_BUILD", (13, 9), None, false), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v19.3.0)
    (
        "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY",
        (13, 9),
        Some((14, 0)),
        true,
    ), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v13.12.0)
    ("FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", (14, 0), None, false), // [SRC] helpers/featureflags/flags.go v14.0.0 (last: v19.3.0)
    ("FF_USE_DIRECT_DOWNLOAD", (13, 9), None, true), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v19.3.0)
    ("FF_SKIP_NOOP_BUILD_STAGES", (13, 9), Some((19, 3)), true), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v19.2.0)
    (
        "FF_SHELL_EXECUTOR_USE_LEGACY_PROCESS_KILL",
        (13, 9),
        Some((14, 0)),
        false,
    ), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v13.12.0)
    ("FF_RESET_HELPER_IMAGE_ENTRYPOINT", (13, 9), Some((14, 0)), true), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v13.12.0)
    ("FF_USE_GO_CLOUD_WITH_CACHE_ARCHIVER", (13, 9), Some((14, 0)), true), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v13.12.0)
    ("FF_USE_FASTZIP", (13, 9), None, false), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v19.3.0)
    ("FF_GITLAB_REGISTRY_HELPER_IMAGE", (13, 9), Some((14, 0)), false), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v13.12.0)
    ("FF_GITLAB_REGISTRY_HELPER_IMAGE", (14, 0), Some((15, 0)), true), // [SRC] helpers/featureflags/flags.go v14.0.0 (last: v14.10.0)
    ("FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR", (13, 9), None, false), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v19.3.0)
    ("FF_ENABLE_BASH_EXIT_CODE_CHECK", (13, 9), None, false), // [SRC] helpers/featureflags/flags.go v13.9.0 (last: v19.3.0)
    ("FF_USE_WINDOWS_LEGACY_PROCESS_STRATEGY", (13, 10), Some((16, 10)), true), // [SRC] helpers/featureflags/flags.go v13.10.0 (last: v16.9.0)
    ("FF_USE_WINDOWS_LEGACY_PROCESS_STRATEGY", (16, 10), None, false), // [SRC] helpers/featureflags/flags.go v16.10.0 (last: v19.3.0)
    (
        "FF_SKIP_DOCKER_MACHINE_PROVISION_ON_CREATION_FAILURE",
        (13, 11),
        Some((14, 1)),
        false,
    ), // [SRC] helpers/featureflags/flags.go v13.11.0 (last: v14.0.0)
    (
        "FF_SKIP_DOCKER_MACHINE_PROVISION_ON_CREATION_FAILURE",
        (14, 1),
        Some((14, 3)),
        true,
    ), // [SRC] helpers/featureflags/flags.go v14.1.0 (last: v14.2.0)
    ("FF_USE_NEW_BASH_EVAL_STRATEGY", (13, 12), Some((19, 3)), false), // [SRC] helpers/featureflags/flags.go v13.12.0 (last: v19.2.0)
    ("FF_USE_LEGACY_BASH_EVAL", (19, 1), None, false), // [SRC] helpers/featureflags/flags.go v19.1.0 (last: v19.3.0)
    ("FF_USE_POWERSHELL_PATH_RESOLVER", (13, 12), None, false), // [SRC] helpers/featureflags/flags.go v13.12.0 (last: v19.3.0)
    ("FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL", (14, 2), None, false), // [SRC] helpers/featureflags/flags.go v14.2.0 (last: v19.3.0)
    ("FF_SCRIPT_SECTIONS", (14, 2), None, false), // [SRC] helpers/featureflags/flags.go v14.2.0 (last: v19.3.0)
    ("FF_USE_NEW_SHELL_ESCAPE", (14, 3), Some((17, 0)), false), // [SRC] helpers/featureflags/flags.go v14.3.0 (last: v16.11.0)
    ("FF_ENABLE_JOB_CLEANUP", (14, 3), None, false), // [SRC] helpers/featureflags/flags.go v14.3.0 (last: v19.3.0)
    ("FF_KUBERNETES_HONOR_ENTRYPOINT", (14, 5), None, false), // [SRC] helpers/featureflags/flags.go v14.5.0 (last: v19.3.0)
    ("FF_POSIXLY_CORRECT_ESCAPES", (14, 9), None, false), // [SRC] helpers/featureflags/flags.go v14.9.0 (last: v19.3.0)
    ("FF_USE_IMPROVED_URL_MASKING", (15, 0), Some((16, 11)), false), // [SRC] helpers/featureflags/flags.go v15.0.0 (last: v16.10.0)
    ("FF_RESOLVE_FULL_TLS_CHAIN", (15, 6), Some((16, 4)), true), // [SRC] helpers/featureflags/flags.go v15.6.0 (last: v16.3.0)
    ("FF_RESOLVE_FULL_TLS_CHAIN", (16, 4), None, false), // [SRC] helpers/featureflags/flags.go v16.4.0 (last: v19.3.0)
    ("FF_DISABLE_POWERSHELL_STDIN", (15, 6), None, false), // [SRC] helpers/featureflags/flags.go v15.6.0 (last: v19.3.0)
    ("FF_USE_POD_ACTIVE_DEADLINE_SECONDS", (15, 10), Some((16, 5)), false), // [SRC] helpers/featureflags/flags.go v15.10.0 (last: v16.4.0)
    ("FF_USE_POD_ACTIVE_DEADLINE_SECONDS", (16, 5), None, true), // [SRC] helpers/featureflags/flags.go v16.5.0 (last: v19.3.0)
    ("FF_USE_ADVANCED_POD_SPEC_CONFIGURATION", (15, 10), None, false), // [SRC] helpers/featureflags/flags.go v15.10.0 (last: v19.3.0)
    ("FF_SET_PERMISSIONS_BEFORE_CLEANUP", (15, 10), Some((19, 3)), true), // [SRC] helpers/featureflags/flags.go v15.10.0 (last: v19.2.0)
    ("FF_SECRET_RESOLVING_FAILS_IF_MISSING", (16, 0), None, true), // [SRC] helpers/featureflags/flags.go v16.0.0 (last: v19.3.0)
    ("FF_RETRIEVE_POD_WARNING_EVENTS", (16, 3), Some((17, 2)), false), // [SRC] helpers/featureflags/flags.go v16.3.0 (last: v17.1.0)
    ("FF_RETRIEVE_POD_WARNING_EVENTS", (17, 2), Some((18, 0)), true), // [SRC] helpers/featureflags/flags.go v17.2.0 (last: v17.11.0)
    ("FF_PRINT_POD_EVENTS", (16, 5), None, false), // [SRC] helpers/featureflags/flags.go v16.5.0 (last: v19.3.0)
    ("FF_USE_GIT_BUNDLE_URIS", (16, 6), None, true), // [SRC] helpers/featureflags/flags.go v16.6.0 (last: v19.3.0)
    ("FF_USE_GIT_NATIVE_CLONE", (18, 0), None, false), // [SRC] helpers/featureflags/flags.go v18.0.0 (last: v19.3.0)
    ("FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR", (16, 6), None, false), // [SRC] helpers/featureflags/flags.go v16.6.0 (last: v19.3.0)
    ("FF_USE_INIT_WITH_DOCKER_EXECUTOR", (16, 7), None, false), // [SRC] helpers/featureflags/flags.go v16.7.0 (last: v19.3.0)
    ("FF_LOG_IMAGES_CONFIGURED_FOR_JOB", (16, 7), None, false), // [SRC] helpers/featureflags/flags.go v16.7.0 (last: v19.3.0)
    ("FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO", (16, 7), None, true), // [SRC] helpers/featureflags/flags.go v16.7.0 (last: v19.3.0)
    ("FF_CLEAN_UP_FAILED_CACHE_EXTRACT", (16, 8), None, false), // [SRC] helpers/featureflags/flags.go v16.8.0 (last: v19.3.0)
    ("FF_USE_WINDOWS_JOB_OBJECT", (16, 9), None, false), // [SRC] helpers/featureflags/flags.go v16.9.0 (last: v19.3.0)
    ("FF_TIMESTAMPS", (16, 11), Some((18, 7)), false),   // [SRC] helpers/featureflags/flags.go v16.11.0 (last: v18.6.0)
    ("FF_TIMESTAMPS", (18, 7), None, true),              // [SRC] helpers/featureflags/flags.go v18.7.0 (last: v19.3.0)
    ("FF_DISABLE_AUTOMATIC_TOKEN_ROTATION", (17, 0), None, false), // [SRC] helpers/featureflags/flags.go v17.0.0 (last: v19.3.0)
    ("FF_USE_LEGACY_GCS_CACHE_ADAPTER", (17, 0), None, false), // [SRC] helpers/featureflags/flags.go v17.0.0 (last: v19.3.0)
    ("FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR", (17, 2), None, false), // [SRC] helpers/featureflags/flags.go v17.2.0 (last: v19.3.0)
    ("FF_USE_LEGACY_S3_CACHE_ADAPTER", (17, 5), None, false), // [SRC] helpers/featureflags/flags.go v17.5.0 (last: v19.3.0)
    ("FF_GIT_URLS_WITHOUT_TOKENS", (17, 5), Some((17, 6)), true), // [SRC] helpers/featureflags/flags.go v17.5.0 (last: v17.5.0)
    ("FF_GIT_URLS_WITHOUT_TOKENS", (17, 6), Some((18, 0)), false), // [SRC] helpers/featureflags/flags.go v17.6.0 (last: v17.11.0)
    ("FF_GIT_URLS_WITHOUT_TOKENS", (18, 0), Some((18, 1)), true), // [SRC] helpers/featureflags/flags.go v18.0.0 (last: v18.0.0)
    ("FF_GIT_URLS_WITHOUT_TOKENS", (18, 1), None, false), // [SRC] helpers/featureflags/flags.go v18.1.0 (last: v19.3.0)
    ("FF_WAIT_FOR_POD_TO_BE_REACHABLE", (17, 6), None, false), // [SRC] helpers/featureflags/flags.go v17.6.0 (last: v19.3.0)
    ("FF_USE_NATIVE_STEPS", (17, 6), Some((17, 11)), false), // [SRC] helpers/featureflags/flags.go v17.6.0 (last: v17.10.0)
    ("FF_USE_NATIVE_STEPS", (17, 11), Some((18, 6)), true), // [SRC] helpers/featureflags/flags.go v17.11.0 (last: v18.5.0)
    ("FF_MASK_ALL_DEFAULT_TOKENS", (17, 9), None, true), // [SRC] helpers/featureflags/flags.go v17.9.0 (last: v19.3.0)
    ("FF_EXPORT_HIGH_CARDINALITY_METRICS", (17, 9), None, false), // [SRC] helpers/featureflags/flags.go v17.9.0 (last: v19.3.0)
    ("FF_USE_FLEETING_ACQUIRE_HEARTBEATS", (17, 9), None, false), // [SRC] helpers/featureflags/flags.go v17.9.0 (last: v19.3.0)
    ("FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", (18, 0), None, true), // [SRC] helpers/featureflags/flags.go v18.0.0 (last: v19.3.0)
    ("FF_USE_ADAPTIVE_REQUEST_CONCURRENCY", (18, 0), None, true), // [SRC] helpers/featureflags/flags.go v18.0.0 (last: v19.3.0)
    ("FF_USE_GITALY_CORRELATION_ID", (18, 1), None, true), // [SRC] helpers/featureflags/flags.go v18.1.0 (last: v19.3.0)
    ("FF_USE_GIT_PROACTIVE_AUTH", (18, 10), None, false), // [SRC] helpers/featureflags/flags.go v18.10.0 (last: v19.3.0)
    ("FF_HASH_CACHE_KEYS", (18, 4), None, false),         // [SRC] helpers/featureflags/flags.go v18.4.0 (last: v19.3.0)
    ("FF_ENABLE_JOB_INPUTS_INTERPOLATION", (18, 7), Some((18, 9)), false), // [SRC] helpers/featureflags/flags.go v18.7.0 (last: v18.8.0)
    ("FF_ENABLE_JOB_INPUTS_INTERPOLATION", (18, 9), None, true), // [SRC] helpers/featureflags/flags.go v18.9.0 (last: v19.3.0)
    ("FF_USE_JOB_ROUTER", (18, 8), None, false), // [SRC] helpers/featureflags/flags.go v18.8.0 (last: v19.3.0)
    ("FF_SCRIPT_TO_STEP_MIGRATION", (18, 9), None, false), // [SRC] helpers/featureflags/flags.go v18.9.0 (last: v19.3.0)
    ("FF_USE_PARALLEL_CACHE_TRANSFER", (19, 0), None, false), // [SRC] helpers/featureflags/flags.go v19.0.0 (last: v19.3.0)
    ("FF_USE_PARALLEL_ARTIFACT_TRANSFER", (19, 0), None, false), // [SRC] helpers/featureflags/flags.go v19.0.0 (last: v19.3.0)
    ("FF_CONCRETE", (18, 11), None, false), // [SRC] helpers/featureflags/flags.go v18.11.0 (last: v19.3.0)
    ("FF_SUSPENDABLE_ENVIRONMENTS", (19, 0), None, false), // [SRC] helpers/featureflags/flags.go v19.0.0 (last: v19.3.0)
    ("FF_USE_NATIVE_CONTAINER_STOP", (19, 1), None, false), // [SRC] helpers/featureflags/flags.go v19.1.0 (last: v19.3.0)
];

/// One declaration order consistent with every release's `var flags = []FeatureFlag{…}` (the
/// relative order of two flags never changes between releases); restricted to one release's flags
/// it is that release's order (checked against every minor tag when the table was made).
pub static DECLARATION_ORDER: &[&str] = &[
    "FF_TEST_FEATURE",
    "FF_CMD_DISABLE_DELAYED_ERROR_LEVEL_EXPANSION",
    "FF_NETWORK_PER_BUILD",
    "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY",
    "FF_USE_DIRECT_DOWNLOAD",
    "FF_SKIP_NOOP_BUILD_STAGES",
    "FF_SHELL_EXECUTOR_USE_LEGACY_PROCESS_KILL",
    "FF_RESET_HELPER_IMAGE_ENTRYPOINT",
    "FF_USE_GO_CLOUD_WITH_CACHE_ARCHIVER",
    "FF_USE_FASTZIP",
    "FF_GITLAB_REGISTRY_HELPER_IMAGE",
    "FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR",
    "FF_ENABLE_BASH_EXIT_CODE_CHECK",
    "FF_USE_WINDOWS_LEGACY_PROCESS_STRATEGY",
    "FF_SKIP_DOCKER_MACHINE_PROVISION_ON_CREATION_FAILURE",
    "FF_USE_NEW_BASH_EVAL_STRATEGY",
    "FF_USE_LEGACY_BASH_EVAL",
    "FF_USE_POWERSHELL_PATH_RESOLVER",
    "FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL",
    "FF_SCRIPT_SECTIONS",
    "FF_USE_NEW_SHELL_ESCAPE",
    "FF_ENABLE_JOB_CLEANUP",
    "FF_KUBERNETES_HONOR_ENTRYPOINT",
    "FF_POSIXLY_CORRECT_ESCAPES",
    "FF_USE_IMPROVED_URL_MASKING",
    "FF_RESOLVE_FULL_TLS_CHAIN",
    "FF_DISABLE_POWERSHELL_STDIN",
    "FF_USE_POD_ACTIVE_DEADLINE_SECONDS",
    "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION",
    "FF_SET_PERMISSIONS_BEFORE_CLEANUP",
    "FF_SECRET_RESOLVING_FAILS_IF_MISSING",
    "FF_RETRIEVE_POD_WARNING_EVENTS",
    "FF_PRINT_POD_EVENTS",
    "FF_USE_GIT_BUNDLE_URIS",
    "FF_USE_GIT_NATIVE_CLONE",
    "FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR",
    "FF_USE_INIT_WITH_DOCKER_EXECUTOR",
    "FF_LOG_IMAGES_CONFIGURED_FOR_JOB",
    "FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO",
    "FF_CLEAN_UP_FAILED_CACHE_EXTRACT",
    "FF_USE_WINDOWS_JOB_OBJECT",
    "FF_TIMESTAMPS",
    "FF_DISABLE_AUTOMATIC_TOKEN_ROTATION",
    "FF_USE_LEGACY_GCS_CACHE_ADAPTER",
    "FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR",
    "FF_USE_LEGACY_S3_CACHE_ADAPTER",
    "FF_GIT_URLS_WITHOUT_TOKENS",
    "FF_WAIT_FOR_POD_TO_BE_REACHABLE",
    "FF_USE_NATIVE_STEPS",
    "FF_MASK_ALL_DEFAULT_TOKENS",
    "FF_EXPORT_HIGH_CARDINALITY_METRICS",
    "FF_USE_FLEETING_ACQUIRE_HEARTBEATS",
    "FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY",
    "FF_USE_ADAPTIVE_REQUEST_CONCURRENCY",
    "FF_USE_GITALY_CORRELATION_ID",
    "FF_USE_GIT_PROACTIVE_AUTH",
    "FF_HASH_CACHE_KEYS",
    "FF_ENABLE_JOB_INPUTS_INTERPOLATION",
    "FF_USE_JOB_ROUTER",
    "FF_SCRIPT_TO_STEP_MIGRATION",
    "FF_USE_PARALLEL_CACHE_TRANSFER",
    "FF_USE_PARALLEL_ARTIFACT_TRANSFER",
    "FF_CONCRETE",
    "FF_SUSPENDABLE_ENVIRONMENTS",
    "FF_USE_NATIVE_CONTAINER_STOP",
];

/// The first release that prints the line, and the first that reads `[runners.feature_flags]`.
pub const LINE_SINCE: Version = v(13, 9, 0);
pub const CONFIG_SINCE: Version = v(13, 11, 0);

/// The flags `version` declares, in declaration order, with their defaults; `None` before the
/// line existed (13.9); `Err` past the newest tabulated minor.
pub fn declared(version: &Version) -> Result<Option<Vec<(&'static str, bool)>>, NotModelled> {
    let minor = (version.major, version.minor);
    if *version < LINE_SINCE {
        return Ok(None);
    }
    let Some(i) = MINOR_RELEASES.iter().position(|m| *m == minor) else {
        return Err(NotModelled::new(format!(
            "gitlab-runner {version}: its feature flags are not tabulated (helpers/featureflags/flags.go read up to v19.3.0)"
        )));
    };
    let after = |a: (u64, u64)| MINOR_RELEASES.iter().position(|m| *m == a).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for name in DECLARATION_ORDER {
        let row = FEATURE_FLAG_ROWS
            .iter()
            .find(|(n, from, until, _)| n == name && after(*from) <= i && until.is_none_or(|u| i < after(u)));
        if let Some((n, _, _, default)) = row {
            out.push((*n, *default));
        }
    }
    Ok(Some(out))
}

/// A variable's value as `strconv.ParseBool` reads it.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The effective values of `version`'s flags: `config` (config.toml's table) first, then the
/// job's variables (`variable`), then the default. `Err` for a variable the releases read
/// differently (an unparsable value counted false before 19.x, kept at its default in 19.3; the
/// release of the change is not confirmed).
pub fn effective(
    version: &Version,
    config: &BTreeMap<String, bool>,
    variable: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(&'static str, bool, bool)>, NotModelled> {
    let Some(flags) = declared(version)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, default) in flags {
        let from_config = (*version >= CONFIG_SINCE).then(|| config.get(name).copied()).flatten();
        let value = match (from_config, variable(name)) {
            (Some(c), _) => c,
            (None, Some(text)) => parse_bool(&text).ok_or_else(|| {
                NotModelled::new(format!(
                    "{name}={text:?}: how gitlab-runner {version} reads a value that is not a boolean changed between \
                     releases (false in 16.2, the default in 19.3), and when is not confirmed"
                ))
            })?,
            (None, None) => default,
        };
        out.push((name, value, default));
    }
    Ok(out)
}

/// The header's `feature flags:` text (without the two leading spaces), when any flag differs.
pub fn line(flags: &[(&'static str, bool, bool)]) -> Option<String> {
    let changed: Vec<String> = flags
        .iter()
        .filter(|(_, value, default)| value != default)
        .map(|(name, value, _)| format!("{name}:{value}"))
        .collect();
    (!changed.is_empty()).then(|| format!("feature flags: {}", changed.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_move_where_the_source_says() {
        let d = |ver: Version, f: &str| {
            declared(&ver)
                .unwrap()
                .unwrap()
                .into_iter()
                .find(|(n, _)| *n == f)
                .map(|x| x.1)
        };
        assert_eq!(d(v(13, 12, 0), "FF_GITLAB_REGISTRY_HELPER_IMAGE"), Some(false));
        assert_eq!(d(v(14, 0, 1), "FF_GITLAB_REGISTRY_HELPER_IMAGE"), Some(true));
        assert_eq!(d(v(18, 6, 0), "FF_TIMESTAMPS"), Some(false));
        assert_eq!(d(v(18, 7, 0), "FF_TIMESTAMPS"), Some(true));
        assert_eq!(d(v(16, 4, 0), "FF_USE_POD_ACTIVE_DEADLINE_SECONDS"), Some(false));
        assert_eq!(d(v(16, 5, 0), "FF_USE_POD_ACTIVE_DEADLINE_SECONDS"), Some(true));
        assert!(declared(&v(13, 8, 0)).unwrap().is_none());
        assert!(declared(&v(19, 4, 0)).is_err());
    }

    #[test]
    fn config_wins_over_the_variable_from_13_11() {
        let config: BTreeMap<String, bool> = [("FF_NETWORK_PER_BUILD".to_string(), true)].into();
        let var = |k: &str| (k == "FF_NETWORK_PER_BUILD").then(|| "false".to_string());
        let f = effective(&v(16, 2, 0), &config, var).unwrap();
        assert_eq!(line(&f).unwrap(), "feature flags: FF_NETWORK_PER_BUILD:true");
        let f = effective(&v(13, 10, 0), &config, var).unwrap();
        assert_eq!(line(&f), None);
        assert!(effective(&v(16, 2, 0), &BTreeMap::new(), |_| Some("yes".into())).is_err());
    }
}
