//! The crate graph is the flow, and the compiler keeps it so: each crate may depend only on the
//! crates below it (in the spirit of go-containerregistry's `depcheck_test.go`). This test reads
//! the workspace's own manifests, so a new dependency that runs back up fails here, and checks
//! that no crate's files import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each crate and the regsim crates it may use: the layers from the bottom up.
const ALLOWED: &[(&str, &[&str])] = &[
    ("wire", &[]),
    ("model", &["regsim-wire"]),
    ("servers", &["regsim-wire", "regsim-model"]),
    ("clients", &["regsim-wire", "regsim-model"]),
    ("runner", &["regsim-wire", "regsim-model", "regsim-clients"]),
    (
        "app",
        &[
            "regsim-wire",
            "regsim-model",
            "regsim-servers",
            "regsim-clients",
            "regsim-runner",
        ],
    ),
];

/// The `regsim-*` names a manifest lists under `[dependencies]` (not dev-dependencies: tests may
/// meet both sides).
fn regsim_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_deps = l == "[dependencies]";
            continue;
        }
        if in_deps && l.starts_with("regsim-") {
            let name = l.split(['.', '=', ' ']).next().unwrap_or_default();
            out.insert(name.to_string());
        }
    }
    out
}

#[test]
fn every_crate_depends_only_on_the_layers_below_it() {
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for (dir, allowed) in ALLOWED {
        assert!(
            workspace.contains(&format!("\"harness/{dir}\"")),
            "harness/{dir} is not a workspace member"
        );
        let manifest = std::fs::read_to_string(root().join("harness").join(dir).join("Cargo.toml")).unwrap();
        for dep in regsim_dependencies(&manifest) {
            assert!(
                allowed.contains(&dep.as_str()),
                "harness/{dir} depends on {dep}, which is not below it (allowed: {allowed:?})"
            );
        }
    }
    // Every member is in the table.
    let members: Vec<&str> = workspace
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"harness/"))
        .filter_map(|l| l.split('"').next())
        .collect();
    for m in members {
        assert!(
            ALLOWED.iter().any(|(d, _)| *d == m),
            "harness/{m} has no row in ALLOWED"
        );
    }
}

/// Source files of a crate's `src/`, by module path (`engine::simulated`).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                walk(&p, &format!("{prefix}{name}::"), out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let module = match name.as_str() {
                    "lib" | "main" => prefix.trim_end_matches("::").to_string(),
                    "mod" => prefix.trim_end_matches("::").to_string(),
                    _ => format!("{prefix}{name}"),
                };
                out.insert(module, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, "", &mut out);
    out
}

/// The modules a file names through `crate::…` and `super::…` paths (in `use` lines or inline),
/// resolved to files of the same crate; test modules are left out (they may reach anywhere).
fn imports(module: &str, text: &str, all: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = BTreeSet::new();
    let parent = |m: &str| m.rsplit_once("::").map(|(p, _)| p.to_string()).unwrap_or_default();
    // `super` is the module's parent, whether the module is `a/b.rs` or `a/b/mod.rs`.
    let super_base = parent(module);
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let children: Vec<(String, &str)> = all
        .keys()
        .filter_map(|k| {
            let child =
                k.strip_prefix(module)?
                    .strip_prefix("::")
                    .or(if module.is_empty() { Some(k) } else { None })?;
            (!child.contains("::")).then(|| (k.clone(), child))
        })
        .collect();
    for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
        // A parent reaches its own children by name (`docker::prepare(…)`, `pub use jobs::…`).
        for (path, child) in &children {
            let named = line.match_indices(&format!("{child}::")).any(|(i, _)| {
                i == 0 || !line[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            });
            if named {
                out.insert(path.clone());
            }
        }
        for (prefix, base) in [("crate::", String::new()), ("super::", super_base.clone())] {
            for (i, _) in line.match_indices(prefix) {
                // Not the tail of a longer path (`regsim_wire::…crate::` never occurs, but be safe).
                if i > 0 && line[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let rest: String = line[i + prefix.len()..].chars().take_while(|c| ident(*c)).collect();
                let absolute = if base.is_empty() {
                    rest
                } else {
                    format!("{base}::{rest}")
                };
                let parts: Vec<&str> = absolute.split("::").filter(|p| !p.is_empty()).collect();
                for n in (1..=parts.len()).rev() {
                    let candidate = parts[..n].join("::");
                    if all.contains_key(&candidate) {
                        if candidate != module {
                            out.insert(candidate);
                        }
                        break;
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_crate_has_files_that_import_each_other_in_a_circle() {
    for (dir, _) in ALLOWED {
        let src = root().join("harness").join(dir).join("src");
        let all = modules(&src);
        let graph: BTreeMap<String, BTreeSet<String>> = all
            .iter()
            .map(|(m, p)| (m.clone(), imports(m, &std::fs::read_to_string(p).unwrap(), &all)))
            .collect();
        // A module naming its own ancestor (`super::Ctx` from a section of `world::build`) is how
        // Rust shares a parent's items with its children, not a circle: edges to an ancestor do
        // not count, every other edge does.
        let counts = |from: &str, to: &str| !(from.starts_with(&format!("{to}::")) || to.is_empty());
        // Depth-first search for a back edge.
        fn visit<'a>(
            m: &'a str,
            graph: &'a BTreeMap<String, BTreeSet<String>>,
            counts: &dyn Fn(&str, &str) -> bool,
            stack: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) -> Option<Vec<String>> {
            if let Some(i) = stack.iter().position(|s| *s == m) {
                let mut circle: Vec<String> = stack[i..].iter().map(|s| s.to_string()).collect();
                circle.push(m.to_string());
                return Some(circle);
            }
            if done.contains(m) {
                return None;
            }
            stack.push(m);
            for next in graph.get(m).into_iter().flatten().filter(|n| counts(m, n)) {
                if let Some(c) = visit(next, graph, counts, stack, done) {
                    return Some(c);
                }
            }
            stack.pop();
            done.insert(m);
            None
        }
        let mut done = BTreeSet::new();
        for m in graph.keys() {
            let mut stack = Vec::new();
            if let Some(circle) = visit(m, &graph, &counts, &mut stack, &mut done) {
                panic!(
                    "harness/{dir}: files import each other in a circle: {}",
                    circle.join(" → ")
                );
            }
        }
    }
}
