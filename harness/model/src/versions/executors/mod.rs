//! What each executor of gitlab-runner prints per release, one module per executor beside the
//! docker-family rows of `versions::runner` (docs/research/runner-executors-credentials.md §4–§6).

pub mod kubernetes;
pub mod shell;
