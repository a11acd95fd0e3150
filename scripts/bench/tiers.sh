#!/usr/bin/env bash
#! Relay tiers: primary -> binlogd A (the semisync acker) -> binlogd B -> readers.
#! (1) The delivery lag each tier adds when idle: a marker statement every 100 ms on
#! the primary (`bench_client lag`), its arrival timed at a reader of the primary, of A
#! and of B. Target: B adds < 1 ms p99 to A. (2) Ingest: the time A takes to mirror a
#! fixed binlog from the primary, and B to mirror it from A, the files read warm in the
#! page cache either way, best of 3 rounds (1 quick). Target: B ≥ 0.9× A's rate.
. "$(dirname "$0")/lib.sh"
[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
secs=20; [ "$BENCH_QUICK" = 1 ] && secs=5
out="$BENCH_OUT/tiers.md"

# (1) Idle lag, on a MariaDB primary of its own.
P="$WORK/tiers-primary"; A="$WORK/tiers-a"; B="$WORK/tiers-b"
srv_destroy "$P"; rm -rf "$A" "$B"
pport=$(srv_start mariadb "$P" 1)
srv_sql "$P" "CREATE DATABASE bench_lag; CREATE USER bench@'%' IDENTIFIED BY 'benchpass'; GRANT ALL ON *.* TO bench@'%'"
aport=$(free_port); bport=$(free_port)
binlogd_start "$A" "$pport" "$aport"
wait_clients "$P" mariadb 1
binlogd_start "$B" "$aport" "$bport" "server_id = 1002"
binlogd_caught_up "$P" mariadb "$aport"
for _ in $(seq 1 300); do
  [ "$(binlogd_pos "$bport" 2>/dev/null)" = "$(binlogd_pos "$aport")" ] && break
  sleep 0.1
done
"$CLIENT" lag 127.0.0.1 "$pport" bench benchpass "$secs" 100 \
  127.0.0.1 "$pport" repl replpass 127.0.0.1 "$aport" repl replpass 127.0.0.1 "$bport" repl replpass > "$WORK/tiers-lag.out"
# From each marker's start: a semisync acker's reader gets it before the commit returns.
# Then what each tier adds to the one before it, marker by marker.
{ read -r _ _ _ pm p50 p99 _; read -r _ _ _ am a50 a99 aa50 aa99 _; read -r _ _ _ bm b50 b99 added50 added99 _; } < "$WORK/tiers-lag.out"
log "tiers idle lag p50/p99 ms: primary $p50/$p99, A $a50/$a99, B $b50/$b99 (missing $pm $am $bm); B adds $added50/$added99"
binlogd_stop "$B"; binlogd_stop "$A"; srv_destroy "$P"; rm -rf "$A" "$B"

# (2) Ingest of the fixed data set: A from the primary, then B from A, in turns, each
# side's best round. The primary's files are in its page cache; A's are put there before
# B reads them (A writes a catch-up with direct I/O, which leaves them out of it).
D=$(dataset mariadb)
bytes=$(srv_binlog_bytes "$D")
cat "$(cat "$D/root")"/binlog/mysql-bin.[0-9]* > /dev/null
rounds=3; [ "$BENCH_QUICK" = 1 ] && rounds=1; ta=""; tb=""
for r in $(seq 1 "$rounds"); do
  settle_disk
  rm -rf "$A"; t0=$(now)
  binlogd_start "$A" "$(cat "$D/port")" "$aport" "semisync = off"
  t=$(wait_stored "$A" "$bytes" "$t0")
  if [ -z "$ta" ] || [ "$(calc "$t < $ta" 0)" = 1 ]; then ta=$t; fi
  cat "$A"/binlogs/mysql-bin.[0-9]* > /dev/null
  settle_disk
  rm -rf "$B"; t0=$(now)
  binlogd_start "$B" "$aport" "$bport" "server_id = 1002" "semisync = off"
  t=$(wait_stored "$B" "$bytes" "$t0")
  if [ -z "$tb" ] || [ "$(calc "$t < $tb" 0)" = 1 ]; then tb=$t; fi
  log "tiers ingest round $r: A from the primary ${ta}s best, B from A ${tb}s best"
  binlogd_stop "$B"; binlogd_stop "$A"; rm -rf "$A" "$B"
done
ra=$(calc "$bytes / $ta / 1e6" 1); rb=$(calc "$bytes / $tb / 1e6" 1); ratio=$(calc "$ta / $tb")
log "tiers ingest: A from the primary $ra MB/s, B from A $rb MB/s ($ratio×)"
{
  echo "## Relay tiers: primary → binlogd A → binlogd B"
  echo
  echo "Idle MariaDB primary with binlogd A as its semisync acker and binlogd B reading A; a marker"
  echo "statement every 100 ms for ${secs}s, timed from its start on the primary to its arrival at one"
  echo "reader each of the primary, A and B (\`bench_client lag\`); what a tier adds is its reader's"
  echo "arrival after the tier before's, marker by marker. Then the fixed data set"
  echo "($(calc "$bytes / 1e6" 0) MB of binlog) mirrored by A from the primary, then by B from A, each"
  echo "into an empty binlog_dir with sync_binlog = 1, in turns, best of $rounds rounds; the files read"
  echo "are in the page cache for both (the primary's, and A's once A has stored them). The times run"
  echo "from starting binlogd to the last byte durable."
  echo
  echo "| reader of | lag p50 ms | lag p99 ms | added to the tier before, p50 / p99 ms |"
  echo "|---|---|---|---|"
  echo "| the primary | $p50 | $p99 | |"
  echo "| A (first tier) | $a50 | $a99 | $aa50 / $aa99 |"
  echo "| B (second tier) | $b50 | $b99 | $added50 / $added99 |"
  echo
  echo "| ingest | seconds | MB/s |"
  echo "|---|---|---|"
  echo "| A from the primary | $ta | $ra |"
  echo "| B from A | $tb | $rb |"
  echo
  echo "- B adds $added50 ms p50 and $added99 ms p99 to A, marker by marker: target < 1 ms p99 ($(verdict "$added99" "<" 1))."
  echo "- B ingests at $ratio× A's rate: target ≥ 0.9× ($(verdict "$ratio" ">=" 0.9))."
  echo
} > "$out"
cat "$out"
