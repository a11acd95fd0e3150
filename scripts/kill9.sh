#!/usr/bin/env bash
#! kill -9 under load against real MariaDB (10.11, 11.8) and MySQL primaries, many times:
#!   scripts/kill9.sh [ITERATIONS]     (default 1000; CI runs 20 through scripts/test.sh)
#! Each iteration kills binlogd at a random moment under a concurrent write load,
#! checks that every commit the clients saw return is in binlogd's files, and
#! restarts it at once. At the end the files must be md5-identical to the primary's
#! and the GTIDs must have no gap and no duplicate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
export BINLOGD_KILL_ITERS=${1:-1000}
exec cargo test --release --test integration kill9 -- --nocapture --test-threads=1
