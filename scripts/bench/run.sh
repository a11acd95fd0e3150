#!/usr/bin/env bash
#! Runs binlogd's benchmarks against the real tools, side by side on this machine, and
#! writes BENCHMARKS.md and bench/latency.png (gnuplot-nox is installed for it when missing).
#!
#!   scripts/bench/run.sh [--quick] [ingest serve latency fanout offload tiers restore restart footprint]...
#!
#! --quick shrinks the data sets and the run times (under six minutes of measuring,
#! after the build and the data sets); without it, each catch-up data set (MariaDB, MySQL)
#! is over 700 MB and each latency set-up runs twice for 15 s per thread count. Each
#! benchmark also runs alone: scripts/bench/<name>.sh (BENCH_QUICK=1 for the quick sizes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
quick=0; benches=()
for a in "$@"; do
  case $a in
    --quick) quick=1 ;;
    --full) quick=0 ;;
    ingest|serve|latency|fanout|offload|tiers|restore|restart|footprint) benches+=("$a") ;;
    *) sed -n '1d; s/^#! \{0,1\}//p' "$0"; exit 2 ;;
  esac
done
[ ${#benches[@]} -gt 0 ] || benches=(ingest serve latency fanout offload tiers restore restart footprint)
export BENCH_QUICK=$quick
. "$here/lib.sh"
started=$(date +%s)
# The build (the static binary, measured and weighed as deployed) runs while the
# catch-up data sets are made.
bench_deps
bench_build &
builder=$!
case " ${benches[*]} " in *" ingest "* | *" serve "*) dataset >/dev/null; dataset mysql >/dev/null ;; esac
case " ${benches[*]} " in *" tiers "*) dataset >/dev/null ;; esac
# The MySQL primary serves only the ingest and serve benchmarks: it stops after them.
last_mysql=""
for b in "${benches[@]}"; do case $b in ingest | serve) last_mysql=$b ;; esac; done
wait "$builder" || die "build failed"
built=$(date +%s)
export BENCH_BUILT=1
rm -f "$BENCH_OUT"/*.md
for b in "${benches[@]}"; do
  log "benchmark: $b"
  "$here/$b.sh" >/dev/null
  if [ "$b" = "$last_mysql" ]; then srv_destroy "$WORK/dataset-mysql"; fi
  settle_disk
done
srv_destroy "$WORK/dataset"

fsync_p50=$("$CLIENT" fsync-p50 "$WORK" 500)
maria=$(mariadbd --version 2>/dev/null | awk '{ print $3 }')
mysql=$(chroot "$SID_ROOT" /usr/sbin/mysqld --version 2>/dev/null | awk '{ print $3 }')
commit=$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
out="$repo/BENCHMARKS.md"
{
  echo "# binlogd benchmarks"
  echo
  echo "Measured by \`scripts/bench/run.sh$([ "$quick" = 1 ] && echo " --quick")\` on $(date -u +%Y-%m-%d), binlogd $commit"
  echo "(its static musl binary, as it is deployed)."
  echo "Each table compares binlogd with a real tool or server measured in the same run on the"
  echo "same machine; the ratios are the figures, absolute numbers vary between machines."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPUs (nproc) | $(nproc) |"
  echo "| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
  echo "| disk fsync p50 (4 KiB append + fdatasync, in $WORK) | ${fsync_p50} µs |"
  echo "| kernel | $(uname -r) |"
  echo "| servers | MariaDB $maria, MySQL $mysql |"
  ran=$(( $(date +%s) - built ))
  echo "| run time | $(( ran / 60 )) min $(( ran % 60 )) s, after $(( (built - started + 30) / 60 )) min building and making the data set |"
  echo
  for b in "${benches[@]}"; do cat "$BENCH_OUT/$b.md"; echo; done
  # The hand-written analysis (A/B runs, profiles), as it is: never regenerated.
  cat "$repo/bench/NOTES.md"
} > "$out"
if [ -f "$BENCH_OUT/latency.png" ]; then mkdir -p "$repo/bench"; cp "$BENCH_OUT/latency.png" "$repo/bench/latency.png"; fi
log "wrote $out"
