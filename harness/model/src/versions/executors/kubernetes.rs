//! The kubernetes executor (`executors/kubernetes`) per release: the lines of its
//! `prepare_executor` section, the build pod's name, what the runner prints while it waits for the
//! pod, and how it words a pull the kubelet could not make (runner-executors-credentials.md §4,
//! §5b). Read at v14.1.0 – v16.1.0 (runner-executors-credentials.md §5e) and v16.2.0, v16.5.0,
//! v17.2.0, v17.3.0, v17.5.0, v17.11.0, and the 13.x era at v13.0.0 – v13.12.0; refused: before
//! 13.0, 13.1 – 13.3 (pull-secret keys kept as written), from 18.0 (one `Using effective pull
//! policy` line per container in Go's map order), and a job that changes the default strategy.

use crate::versions::{Era, era, lookup, v};
use regsim_wire::NotModelled;
use semver::Version;

/// Whether the executor is modelled for a release, and why not.
#[rustfmt::skip]
pub fn modelled() -> Vec<Era<bool>> {
    vec![
        era(v(10, 0, 0), false, "before v13.0.0 not read: not modelled"),
        era(v(13, 0, 0), true,  "[SRC] v13.0.0 executors/kubernetes/kubernetes.go, util.go (runner-executors-credentials.md §5e)"),
        era(v(13, 1, 0), false, "v13.1.0 – v13.3.x keep the pull-secret keys as written (convertToHostname from v13.4.0): not modelled"),
        era(v(13, 4, 0), true,  "[SRC] v13.4.0 – v16.1.0 executors/kubernetes/kubernetes.go, util.go, internal/pull (runner-executors-credentials.md §5e)"),
        era(v(16, 2, 0), true,  "[SRC] v16.2.0 executors/kubernetes/kubernetes.go, util.go, internal/pull"),
        era(v(18, 0, 0), false, "[SRC] v18.0.0 kubernetes.go:452 prints `Using effective pull policy of %s for container %s` per container from a Go map, in random order: not modelled"),
    ]
}

/// Whether the Warning events of the pod are printed after a failed run
/// (`Event retrieved from the cluster: …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningEvents {
    /// `logPodWarningEvents` does not exist yet.
    Absent,
    Printed,
    /// Behind FF_RETRIEVE_POD_WARNING_EVENTS, default off.
    BehindFlagOff,
}

#[rustfmt::skip]
pub fn warning_events() -> Vec<Era<WarningEvents>> {
    use WarningEvents::*;
    vec![
        era(v(10, 0, 0), Absent,        "[SRC] absent in every tag through v16.1.1 (first in 5c4c6da5f, v16.2.0)"),
        era(v(16, 2, 0), Printed,       "[SRC] v16.2.0 kubernetes.go:453-454,500"),
        era(v(16, 3, 0), BehindFlagOff, "[SRC] v16.4.0 kubernetes.go:458, v16.5.0 :495 (FF_RETRIEVE_POD_WARNING_EVENTS, default false v16.3.0 – v17.1.0 in helpers/featureflags/flags.go)"),
        era(v(17, 2, 0), Printed,       "[SRC] v17.2.0 kubernetes.go:489-490, v17.5.0 :513-514,601"),
    ]
}

/// `Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS, the Pod activeDeadlineSeconds will be set to the job
/// timeout: %v...` at the start of `Preparing environment`: printed where the flag is on by default.
#[rustfmt::skip]
pub fn active_deadline_line() -> Vec<Era<bool>> {
    vec![
        era(v(10, 0, 0), false, "FF_USE_POD_ACTIVE_DEADLINE_SECONDS declared from v15.10.0, default false until v16.4.0 [SRC] helpers/featureflags/flags.go"),
        era(v(16, 5, 0), true,  "[SRC] v17.5.0 kubernetes.go:2165-2173; the flag's default true from v16.5.0 (flags.go)"),
    ]
}

/// The pull manager's warning and the ImagePullError's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullWording {
    /// No pull manager yet: no warning, the error is the pod's `image pull failed: …` itself.
    NoManager,
    /// `Failed to pull image with policy %q: %v` / `pulling image %q: %s`
    PolicyOnly,
    /// `Failed to pull image %q with policy %q: %v` / `pulling image %q: %s`
    WithImage,
    /// `Failed to pull image %q for container %q with policy %q: %v` /
    /// `pulling image %q for container %s: %s`
    WithContainer,
}

#[rustfmt::skip]
pub fn pull_wording() -> Vec<Era<PullWording>> {
    use PullWording::*;
    vec![
        era(v(10, 0, 0),  NoManager,    "[SRC] no executors/kubernetes/internal/pull before v13.11.0"),
        era(v(13, 11, 0), PolicyOnly,   "[SRC] v13.11.0 internal/pull/manager.go:65 (5ddeddbb3); v16.2.0 manager.go:67-71, errors.go:15"),
        era(v(17, 3, 0), WithImage,     "[SRC] v17.3.0 internal/pull/manager.go:69"),
        era(v(17, 5, 0), WithContainer, "[SRC] v17.5.0 internal/pull/manager.go:69, errors.go:16"),
    ]
}

impl PullWording {
    /// The pull manager's warning; `None` before it existed.
    pub fn warning(self, image: &str, container: &str, policy: &str, message: &str) -> Option<String> {
        Some(match self {
            PullWording::NoManager => return None,
            PullWording::PolicyOnly => format!("Failed to pull image with policy {policy:?}: {message}"),
            PullWording::WithImage => format!("Failed to pull image {image:?} with policy {policy:?}: {message}"),
            PullWording::WithContainer => {
                format!("Failed to pull image {image:?} for container {container:?} with policy {policy:?}: {message}")
            }
        })
    }

    pub fn error(self, image: &str, container: &str, message: &str) -> String {
        match self {
            PullWording::NoManager => message.to_string(),
            PullWording::PolicyOnly | PullWording::WithImage => format!("pulling image {image:?}: {message}"),
            PullWording::WithContainer => format!("pulling image {image:?} for container {container}: {message}"),
        }
    }
}

/// `prepare environment: %w. Check URL for more information` (common/build.go executeScript);
/// `None` before the wrapper (13.0).
#[rustfmt::skip]
pub fn shell_profile_url() -> Vec<Era<Option<&'static str>>> {
    vec![
        era(v(10, 0, 0),  None, "[SRC] absent at v13.0.0 common/build.go"),
        era(v(13, 1, 0),  Some("https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading"), "[SRC] v13.1.0 common/build.go:378; v16.2.0 :448; v17.10.0 :503-504"),
        era(v(17, 11, 0), Some("https://docs.gitlab.com/runner/shells/#shell-profile-loading"),           "[SRC] v17.11.0 common/build.go:504-505"),
    ]
}

/// What Prepare prints when config.toml sets no namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceWarning {
    /// `Namespace is empty, therefore assuming 'default'.`
    Sentence,
    /// `s.Warningln(fmt.Printf(…))`: the sentence goes to the runner's stdout and the trace gets
    /// Printf's results, `WARNING: 49 <nil>` (the sentence's length and a nil error).
    PrintfResults,
}

#[rustfmt::skip]
pub fn namespace_warning() -> Vec<Era<NamespaceWarning>> {
    use NamespaceWarning::*;
    vec![
        era(v(10, 0, 0),  Sentence,      "[SRC] v14.10.0 kubernetes.go:1782"),
        era(v(15, 0, 0),  PrintfResults, "[SRC] v15.0.0 kubernetes.go:1890-1891, v15.5.0 :1973-1974 (0487064bf); every tag v15.0.0 – v15.9.1"),
        era(v(15, 10, 0), Sentence,      "[SRC] v15.10.0 (245fd34a0), v16.2.0 kubernetes.go:2379-2382"),
    ]
}

impl NamespaceWarning {
    pub fn text(self, namespace: &str) -> String {
        match self {
            NamespaceWarning::Sentence => format!("Namespace is empty, therefore assuming '{namespace}'."),
            NamespaceWarning::PrintfResults => {
                let sentence = format!("Namespace is empty, therefore assuming '{namespace}'.");
                format!("{} <nil>", sentence.len())
            }
        }
    }
}

/// How the executor runs the job's scripts by default (FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `exec` into the containers: no attach line, no `waiting for pod running:` wrapper.
    LegacyExec,
    /// `Using attach strategy to execute scripts...`
    Attach,
}

#[rustfmt::skip]
pub fn default_strategy() -> Vec<Era<Strategy>> {
    use Strategy::*;
    vec![
        era(v(10, 0, 0), LegacyExec, "[SRC] FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY default \"true\" v13.0.0 – v13.12.0 (helpers/featureflags/flags.go)"),
        era(v(14, 0, 0), Attach,     "[SRC] the flag's default false from v14.0.0"),
    ]
}

/// Which pod conditions the waiting poll prints.
#[rustfmt::skip]
pub fn condition_lines() -> Vec<Era<bool>> {
    vec![
        era(v(10, 0, 0), false, "[SRC] no `\\t%s: %q` in util.go v13.0.0 – v13.4.1"),
        era(v(13, 5, 0), true,  "[SRC] util.go v13.5.0:193, v16.2.0:198"),
    ]
}

/// setTraceStatus before v14.1.0 asserted `err.(*BuildError)`: an ImagePullError wrapped by
/// `prepare environment:` was no BuildError to it, so the job failed as a system failure.
#[rustfmt::skip]
pub fn wrapped_error_is_system_failure() -> Vec<Era<bool>> {
    vec![
        era(v(10, 0, 0), false, "[SRC] v13.0.0: no wrapper, the BuildError reaches setTraceStatus as it is (common/build.go:599,611)"),
        era(v(13, 1, 0), true,  "[SRC] v13.1.0 – v14.0.1 common/build.go type assertion (v14.0.0 :800,810)"),
        era(v(14, 1, 0), false, "[SRC] v14.1.0 errors.As"),
    ]
}

/// `Pulling GitLab Runner helper image from Docker Hub…` while the helper came from Docker Hub
/// by default (FF_GITLAB_REGISTRY_HELPER_IMAGE false, no `helper_image` in config.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperWarning {
    None,
    /// Once, in Prepare, after the namespace line.
    InPrepare(&'static str),
    /// Once per helper container built, in `Preparing environment` (the legacy strategy builds one).
    PerHelperContainer(&'static str),
}

const HUB_WARNING_1: &str = "Pulling GitLab Runner helper image from Docker Hub. Helper image is migrating to registry.gitlab.com, for more information see https://docs.gitlab.com/runner/configuration/advanced-configuration.html#migrating-helper-image-to-registrygitlabcom";
const HUB_WARNING_2: &str = "Pulling GitLab Runner helper image from Docker Hub. Helper image is migrating to registry.gitlab.com, for more information see https://docs.gitlab.com/runner/configuration/advanced-configuration.html#migrate-helper-image-to-registrygitlabcom";

#[rustfmt::skip]
pub fn helper_warning() -> Vec<Era<HelperWarning>> {
    use HelperWarning::*;
    vec![
        era(v(10, 0, 0),  None,                              "[SRC] no DockerHubWarningMessage before v13.7.0"),
        era(v(13, 7, 0),  InPrepare(HUB_WARNING_1),          "[SRC] v13.7.0 kubernetes.go:182 prepareHelperImage; helpers/container/helperimage/info.go:17"),
        era(v(13, 10, 0), PerHelperContainer(HUB_WARNING_1), "[SRC] v13.10.0 getHelperImage during the pod's build"),
        era(v(13, 11, 0), PerHelperContainer(HUB_WARNING_2), "[SRC] v13.11.0 – v13.12.0 info.go:18 (the anchor renamed), v13.12.0 kubernetes.go:1131"),
        era(v(14, 0, 0),  None,                              "[SRC] FF_GITLAB_REGISTRY_HELPER_IMAGE default true from v14.0.0; the flag gone in v15.0.0"),
    ]
}

/// Who names the build pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodNaming {
    /// `GenerateName: ProjectUniqueName()`: the apiserver appends 5 characters of
    /// `bcdfghjklmnpqrstvwxz2456789`, with no separator.
    Apiserver,
    /// `generateNameForK8sResources`: the runner appends `-` and 8 characters of `[a-z0-9]`.
    Runner,
}

#[rustfmt::skip]
pub fn pod_naming() -> Vec<Era<PodNaming>> {
    use PodNaming::*;
    vec![
        era(v(10, 0, 0), Apiserver, "[SRC] v16.1.0 kubernetes.go:1515 GenerateName; the apiserver cuts the base to 58 and appends utilrand.String(5) (k8s.io/apiserver pkg/storage/names/generate.go, k8s.io/apimachinery pkg/util/rand/rand.go alphanums; [SRC] as copied in public code)"),
        era(v(16, 2, 0), Runner,    "[SRC] v16.2.0 kubernetes.go:1716, :2465-2476"),
    ]
}

impl PodNaming {
    /// The suffix's length and alphabet.
    pub fn suffix(self) -> (usize, &'static str) {
        match self {
            PodNaming::Apiserver => (5, "bcdfghjklmnpqrstvwxz2456789"),
            PodNaming::Runner => (POD_SUFFIX_LENGTH, POD_SUFFIX_ALPHABET),
        }
    }
    /// The suffix a scenario that states none gets.
    pub fn default_suffix(self) -> &'static str {
        match self {
            PodNaming::Apiserver => "x7k2p",
            PodNaming::Runner => "k3j9x0qa",
        }
    }
}

/// Defaults of `[runners.kubernetes]` the log shows.
pub const DEFAULT_NAMESPACE: &str = "default";
/// `KubernetesPollInterval` (common/consts.go:23 at v16.2.0).
pub const POLL_INTERVAL_SECS: u64 = 3;
/// `k8sResourcesNameSuffixLength` and `chars` (v16.2.0 kubernetes.go:84,126): the runner's own
/// random suffix of the pod's name.
pub const POD_SUFFIX_LENGTH: usize = 8;
pub const POD_SUFFIX_ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
/// `k8sResourcesNameMaxLength` (v16.2.0 kubernetes.go:85).
pub const NAME_MAX_LENGTH: usize = 63;

/// What a release of the kubernetes executor prints.
#[derive(Debug, Clone)]
pub struct KubernetesRelease {
    pub default_strategy: Strategy,
    pub condition_lines: bool,
    pub wrapped_error_is_system_failure: bool,
    pub helper_warning: HelperWarning,
    /// The job secret holds only the job payload's credentials (DOCKER_AUTH_CONFIG ignored).
    pub payload_only_secret: bool,
    /// The image line shows the image as written, `$VARIABLES` unexpanded.
    pub image_line_unexpanded: bool,
    pub namespace_warning: NamespaceWarning,
    pub pod_naming: PodNaming,
    pub warning_events: WarningEvents,
    pub active_deadline_line: bool,
    pub pull_wording: PullWording,
    pub shell_profile_url: Option<&'static str>,
}

pub fn release(version: &Version) -> Result<KubernetesRelease, NotModelled> {
    let table = modelled();
    let m = lookup(&table, version).expect("the table starts at 10.0");
    if !m.value {
        return Err(NotModelled::new(format!(
            "the kubernetes executor of gitlab-runner {version}: only 13.0.x and 13.4.0 – 17.11.x are modelled ({})",
            m.source
        )));
    }
    Ok(KubernetesRelease {
        default_strategy: lookup(&default_strategy(), version).expect("modelled").value,
        condition_lines: lookup(&condition_lines(), version).expect("modelled").value,
        wrapped_error_is_system_failure: lookup(&wrapped_error_is_system_failure(), version)
            .expect("modelled")
            .value,
        helper_warning: lookup(&helper_warning(), version).expect("modelled").value,
        // [SRC] v13.0.0 kubernetes.go:704-740: only s.Build.Credentials; ResolveConfigs from v13.1.0 (5b76351a3).
        payload_only_secret: *version < v(13, 1, 0),
        // [SRC] v13.0.0 – v13.10.0 kubernetes.go:186 s.options.Image.Name; v13.11.0 :177 the expanded name.
        image_line_unexpanded: *version < v(13, 11, 0),
        namespace_warning: lookup(&namespace_warning(), version).expect("modelled").value,
        pod_naming: lookup(&pod_naming(), version).expect("modelled").value,
        warning_events: lookup(&warning_events(), version).expect("modelled").value,
        active_deadline_line: lookup(&active_deadline_line(), version).expect("modelled").value,
        pull_wording: lookup(&pull_wording(), version).expect("modelled").value,
        shell_profile_url: lookup(&shell_profile_url(), version).expect("modelled").value,
    })
}

/// `time.Duration(seconds)*time.Second` as Go's `%v` prints it (`1h0m0s`, `5m0s`, `30s`).
pub fn go_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modelled_band_is_14_1_to_17_11() {
        assert!(release(&v(13, 2, 0)).is_err());
        let r = release(&v(13, 0, 0)).unwrap();
        assert!(r.payload_only_secret && r.shell_profile_url.is_none() && !r.condition_lines);
        assert_eq!(r.default_strategy, Strategy::LegacyExec);
        assert!(release(&v(14, 0, 1)).unwrap().wrapped_error_is_system_failure);
        let r = release(&v(15, 5, 0)).unwrap();
        assert_eq!(r.namespace_warning.text("default"), "49 <nil>");
        assert_eq!(r.pod_naming, PodNaming::Apiserver);
        assert_eq!(r.warning_events, WarningEvents::Absent);
        assert_eq!(
            release(&v(15, 10, 0)).unwrap().namespace_warning,
            NamespaceWarning::Sentence
        );
        assert!(release(&v(18, 0, 0)).is_err());
        let r = release(&v(16, 2, 0)).unwrap();
        assert_eq!(r.warning_events, WarningEvents::Printed);
        assert!(!r.active_deadline_line);
        assert_eq!(
            release(&v(16, 8, 0)).unwrap().warning_events,
            WarningEvents::BehindFlagOff
        );
        let r = release(&v(17, 11, 0)).unwrap();
        assert_eq!(r.pull_wording, PullWording::WithContainer);
        assert!(
            r.shell_profile_url
                .unwrap()
                .ends_with("/runner/shells/#shell-profile-loading")
        );
    }

    #[test]
    fn go_prints_durations_this_way() {
        assert_eq!(go_duration(3600), "1h0m0s");
        assert_eq!(go_duration(300), "5m0s");
        assert_eq!(go_duration(45), "45s");
    }

    #[test]
    fn the_three_wordings() {
        let w = |p: PullWording| p.warning("r/a:1", "build", "", "image pull failed: x").unwrap();
        assert_eq!(
            w(PullWording::PolicyOnly),
            "Failed to pull image with policy \"\": image pull failed: x"
        );
        assert_eq!(
            w(PullWording::WithContainer),
            "Failed to pull image \"r/a:1\" for container \"build\" with policy \"\": image pull failed: x"
        );
        assert_eq!(
            PullWording::WithContainer.error("r/a:1", "build", "m"),
            "pulling image \"r/a:1\" for container build: m"
        );
    }
}
