// rstest's #[files] expands the scenario glob at compile time: rebuild the tests when the
// catalogue changes. `regsim --version` names the commit and the shipped catalogue's size.
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=../../scenarios");
    println!("cargo::rerun-if-changed=../../tests/broken");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scenarios = std::fs::read_dir(root.join("scenarios"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
                .count()
        })
        .unwrap_or(0);
    println!("cargo::rustc-env=REGSIM_CATALOGUE_SIZE={scenarios}");
    // A source tree without git (a packaged crate, a tarball) has no commit to name.
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo::rustc-env=REGSIM_COMMIT={commit}");
    // Rebuild when HEAD moves (a new commit, or another branch checked out).
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let dir = Path::new(&dir);
        println!("cargo::rerun-if-changed={}", dir.join("HEAD").display());
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo::rerun-if-changed={}", dir.join(r).display());
        }
        println!("cargo::rerun-if-changed={}", dir.join("packed-refs").display());
    }
}
