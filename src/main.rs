//! The `binlogd` binary: parse the command line, run, pick the exit code.
#![deny(clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let code = match binlogd::cli::run(std::env::args().collect()) {
        binlogd::cli::Outcome::Ok => 0,
        binlogd::cli::Outcome::Failed => 1,
        binlogd::cli::Outcome::Usage => 2,
        binlogd::cli::Outcome::Store => 3,
    };
    std::process::exit(code);
}
