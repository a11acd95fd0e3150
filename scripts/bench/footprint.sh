#!/usr/bin/env bash
#! Footprint: binlogd's peak RSS (VmHWM) while it mirrors a MariaDB primary under
#! sysbench load and serves three replicas (mariadb-binlog --stop-never readers) at once;
#! and the size of the static musl release binary.
. "$(dirname "$0")/lib.sh"
[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
secs=30; [ "$BENCH_QUICK" = 1 ] && secs=8
P="$WORK/fp-primary"; B="$WORK/fp-binlogd"; srv_destroy "$P"; rm -rf "$B"
pport=$(srv_start mariadb "$P")
# No acker yet: with semisync on, the first commit would wait out its 30 s timeout.
srv_sql "$P" "SET GLOBAL rpl_semi_sync_master_enabled = OFF; CREATE DATABASE sbtest"
sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$P")" --mysql-user=root --tables=4 \
  --table-size=10000 prepare >/dev/null
srv_sql "$P" "SET GLOBAL rpl_semi_sync_master_enabled = ON"
lport=$(free_port)
binlogd_start "$B" "$pport" "$lport"
for _ in $(seq 1 300); do
  [ "$(srv_sql "$P" "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'" | awk '{ print $2 }')" = 1 ] && break
  sleep 0.1
done
first=$(srv_first_binlog "$P")
# The readers ask binlogd for the first file: it must have it (it registers with the
# primary before it has written anything).
for _ in $(seq 1 300); do
  binlogd_sql "$lport" "SHOW BINARY LOGS" 2>/dev/null | grep -q "^$first" && break
  sleep 0.1
done
out=/dev/shm/binlogd-bench-fp; rm -rf "$out"; mkdir -p "$out"
pids=()
for i in 1 2 3; do
  mariadb-binlog --no-defaults --read-from-remote-server --host=127.0.0.1 --port="$lport" --user=repl \
    --password=replpass --raw --stop-never --stop-never-slave-server-id=$((7000 + i)) \
    --result-file="$out/r$i-" "$first" >/dev/null 2>"$out/r$i.err" &
  pids+=($!)
done
sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$P")" --mysql-user=root --tables=4 \
  --table-size=10000 --threads=8 --time="$secs" run >/dev/null
sleep 1
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$(binlogd_pid "$B")/status")
sent=$(binlogd_status "$lport" Binlogd_bytes_sent)
[ "${sent:-0}" -gt 0 ] || die "the readers got nothing from binlogd: $(cat "$out"/r*.err)"
kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true
binlogd_stop "$B"
# Counted once binlogd has stopped: until then the active file has its preallocated zeros.
stored=$(binlogd_bytes "$B")
srv_destroy "$P"; rm -rf "$out" "$B"
bin=$BINLOGD
size=$(stat -c %s "$bin")
log "footprint: VmHWM ${hwm} kB; binary $size bytes"
cat > "$BENCH_OUT/footprint.md" <<MD
## Footprint

| | binlogd | target |
|---|---|---|
| peak RSS (VmHWM) mirroring $(calc "$stored / 1e6" 0) MB under ${secs}s of sysbench (8 threads) and serving 3 readers ($(calc "$sent / 1e6" 0) MB sent) | $(calc "$hwm / 1024" 1) MiB | < 32 MiB |
| static musl binary (stripped) | $(calc "$size / 1048576" 2) MiB | < 6 MiB |
MD
cat "$BENCH_OUT/footprint.md"
