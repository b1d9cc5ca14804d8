//! `regsim`: run scenario files and print the job logs they produce (the command line lives in
//! `regsim::cli`, where completions and the man page are generated from it too).

fn main() -> std::process::ExitCode {
    regsim::cli::main()
}
