#!/usr/bin/env bash
#! The whole test suite on a fresh machine: installs what it needs (apt packages,
#! the musl target, the sid chroot with MySQL 9.x), then runs the unit tests, the
#! integration tests against real MariaDB 10.11 and MySQL 9.x primaries, and the
#! static build check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. scripts/lib.sh

[ "$(id -u)" = 0 ] || die "run as root: the tests install packages and run servers in a chroot"
scripts/install-deps.sh

log "shellcheck scripts/"
shellcheck -x -P SCRIPTDIR scripts/*.sh scripts/bench/*.sh
log "cargo fmt --check"
cargo fmt --all -- --check
if cargo clippy --version >/dev/null 2>&1; then
  log "cargo clippy (warnings are errors)"
  cargo clippy --all-targets -- -D warnings
fi
log "unit tests"
cargo test --lib --bins
log "examples build"
cargo build --examples
log "integration tests (real servers)"
cargo test --test integration -- --test-threads="${BINLOGD_TEST_THREADS:-2}"
log "static build"
scripts/build-static.sh
log "all tests passed"
