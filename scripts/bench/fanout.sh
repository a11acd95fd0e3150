#!/usr/bin/env bash
#! The semisync ACK while binlogd serves many readers: sysbench oltp_insert at 1 thread
#! on a MariaDB primary whose only acker is binlogd, with no reader, then with N readers
#! tailing binlogd from its end (`bench_client readers`: N - S read and discard, S never
#! read). Reports
#! tps, p95, binlogd's mean ACK latency (its own counters) and its CPU per commit for
#! each. Target: the ACK latency with readers within 1.2x of none's.
#! FANOUT_READERS (200) and FANOUT_STALLED (20) set N and S.
. "$(dirname "$0")/lib.sh"
[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
n=${FANOUT_READERS:-200}; stalled=${FANOUT_STALLED:-20}
secs=15; rounds=2
if [ "$BENCH_QUICK" = 1 ]; then secs=5; rounds=1; fi
P="$WORK/fanout-primary"; B="$WORK/fanout-binlogd"
srv_destroy "$P"; rm -rf "$B"
pport=$(srv_start mariadb "$P" 1)
srv_sql "$P" "SET GLOBAL rpl_semi_sync_master_enabled = OFF; CREATE DATABASE sbtest"
sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$P")" --mysql-user=root --tables=1 \
  --table-size=10000 prepare >/dev/null
srv_sql "$P" "SET GLOBAL rpl_semi_sync_master_enabled = ON"
lport=$(free_port)
# The stalled readers are not closed during the runs.
binlogd_start "$B" "$pport" "$lport" "max_connections = $((n + 20))" "net_write_timeout = 3600"
wait_clients "$P" mariadb 1; binlogd_caught_up "$P" mariadb "$lport"
settle_disk

# CPU seconds of binlogd's threads named NAME (writer, acker, reader), summed.
thread_cpu() { # NAME
  local pid t sum=0
  pid=$(binlogd_pid "$B")
  for t in /proc/"$pid"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] && sum=$(calc "$sum + $(cpu_s "$pid/task/${t##*/}")" 3)
  done
  echo "$sum"
}
# One run: "tps p95 ack_us cpu_us_per_commit writer_cpu_us_per_commit".
measure() {
  local ac0 act0 ac act c0 w0 tps p95 tx
  read -r _ _ ac0 act0 < <(ack_counters "$lport")
  c0=$(cpu_s "$(binlogd_pid "$B")"); w0=$(thread_cpu writer)
  read -r tps _ p95 tx < <(load "$P" 1 "$secs")
  read -r _ _ ac act < <(ack_counters "$lport")
  echo "$tps $p95 $(calc "($act - $act0) / ($ac - $ac0 + 0.0001)" 0)" \
    "$(calc "($(cpu_s "$(binlogd_pid "$B")") - $c0) * 1e6 / $tx" 1) $(calc "($(thread_cpu writer) - $w0) * 1e6 / $tx" 1)"
}
rows=""
for r in $(seq 1 "$rounds"); do
  read -r t0 p0 a0 c0 w0 < <(measure)
  log "fan-out ACK round $r, no readers: $t0 tps, p95 $p0 ms, ACK $a0 µs, CPU $c0 µs/commit, writer $w0"
  # From binlogd's end: the readers tail, with nothing to catch up on.
  read -r file pos < <(binlogd_pos "$lport")
  # The readers stand in for other machines: at nice 19 they take only the CPU left over.
  nice -n 19 "$CLIENT" readers 127.0.0.1 "$lport" repl replpass "$file" "$pos" $((n - stalled)) "$stalled" \
    > "$WORK/fanout-readers.out" &
  rpid=$!; echo "$rpid" >> "$WORK/started.pids"
  for _ in $(seq 1 600); do grep -q ready "$WORK/fanout-readers.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$WORK/fanout-readers.out" || die "the readers did not connect"
  read -r t1 p1 a1 c1 w1 < <(measure)
  log "fan-out ACK round $r, $n readers ($stalled stalled): $t1 tps, p95 $p1 ms, ACK $a1 µs, CPU $c1 µs/commit, writer $w1"
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
  rows+="| $r | $t0 | $t1 | $p0 | $p1 | $a0 | $a1 | $(calc "$a1 / $a0") × | $c0 | $c1 | $w0 | $w1 |"$'\n'
done
binlogd_stop "$B"; srv_destroy "$P"; rm -rf "$B"
worst=$(echo "$rows" | awk -F'|' 'NF > 2 { r = $9 + 0; if (r > w) w = r } END { print w + 0 }')
{
  echo "## Fan-out and the semisync ACK: $n readers, $stalled of them stalled"
  echo
  echo "sysbench oltp_insert at 1 thread, ${secs}s per run, on a MariaDB primary whose only semisync acker is"
  echo "binlogd (ACK after fsync), without readers and then with $n dumps tailing binlogd from its"
  echo "end (\`bench_client readers\`: $((n - stalled)) read and discard what they get, $stalled never read)."
  echo "ACK is binlogd's mean from the event that asks for it to the ACK sent (its own counters). The"
  echo "readers run at nice 19, standing in for other machines. The writer thread's CPU per commit is"
  echo "its own (/proc task stat): what a publish costs it."
  echo
  echo "| round | tps, no readers | tps, $n readers | p95 ms, none | p95 ms, $n | ACK µs, none | ACK µs, $n | ACK ratio | binlogd CPU µs/commit, none | binlogd CPU µs/commit, $n | writer thread CPU µs/commit, none | writer, $n |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  echo -n "$rows"
  echo
  echo "Target: the ACK latency with $n readers within 1.2× of none's ($(verdict "$worst" "<=" 1.2), worst $worst ×)."
} > "$BENCH_OUT/fanout.md"
cat "$BENCH_OUT/fanout.md"
