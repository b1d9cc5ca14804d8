// rstest's #[files] expands the scenario glob at compile time: rebuild the tests when the
// catalogue changes.
fn main() {
    println!("cargo::rerun-if-changed=../../scenarios");
    println!("cargo::rerun-if-changed=../../tests/broken");
}
