//! regsim's integration tests, one binary (each file is a module; the conformance suite has its
//! own binary, `tests/conformance/`). Real daemons and tools that are missing are skipped with a
//! message, and required under `CI=true`.

mod architecture;
mod broken_scenarios;
mod catalogue;
mod ci_template;
mod cli;
mod cli_tls_leg;
mod diagnose;
mod explain;
mod explain_html;
mod fuzz_regressions;
mod import;
mod matrix;
mod mock_http;
mod not_modelled;
mod paths;
mod raw_trace;
mod real_daemon;
mod reports;
mod schema1_roundtrip;
mod serve_hardening;
mod serve_process;
mod shell_oracle;
mod version_walk;
mod workshop;
