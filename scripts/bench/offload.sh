#!/usr/bin/env bash
#! Offloading the primary: sysbench oltp_insert at 16 threads on a primary whose semisync
#! acker is binlogd, with N tailing readers (`bench_client readers`: real dumps that read
#! and discard) dumping (a) from the primary itself, (b) from binlogd. For each: the
#! primary's tps and p95, the delivery lag p50/p99 from a marker's commit returning on
#! the primary to its arrival at a reader of the same source (`bench_client lag`), and
#! binlogd's CPU seconds and peak RSS. Then binlogd's peak RSS with 1,000 readers.
#! On MariaDB and MySQL (quick: MariaDB). OFFLOAD_N ("0 10 100 500"; quick "0 100") sets
#! the N, OFFLOAD_FLAVORS the servers, OFFLOAD_MARK_MS the time between markers (50).
. "$(dirname "$0")/lib.sh"
[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
secs=15; ns=${OFFLOAD_N:-0 10 100 500}; flavors=${OFFLOAD_FLAVORS:-mariadb mysql}; many=1000
# A marker every 50 ms: 300 in a run, so that the p99 is not the one slowest marker.
mark_ms=${OFFLOAD_MARK_MS:-50}
# Quick: MariaDB alone, to keep run.sh --quick within its minutes.
if [ "$BENCH_QUICK" = 1 ]; then secs=5; ns=${OFFLOAD_N:-0 100}; many=300; flavors=${OFFLOAD_FLAVORS:-mariadb}; fi
out="$BENCH_OUT/offload.md"
{
  echo "## Offloading the primary: readers on the primary or on binlogd"
  echo
  echo "sysbench oltp_insert, 16 threads, ${secs}s per run, on a primary whose semisync acker is binlogd"
  echo "(ACK after fsync). N tailing readers (real dumps that read and discard, at nice 19 as if on other"
  echo "machines) dump from the primary itself, or from binlogd. Lag: from a marker statement's return"
  echo "on the primary (one every $mark_ms ms) to its arrival at one more reader of the same source. binlogd's"
  echo "CPU and peak RSS (VmHWM, reset before each run) are over the run, as are the CPU seconds of the"
  echo "primary's process and of the readers' process: the machine has $(nproc) CPUs, $(($(nproc) * secs)) CPU-seconds per run"
  echo "for all of them, sysbench and the lag client included."
  echo
} > "$out"

# One run: "tps p95 lag_p50 lag_p99 sent_p50 sent_p99 cpu_s rss_mib primary_cpu_s readers_cpu_s
# ahead_p50 ahead_pct" with N readers on SIDE (its port): the lag from the marker's return, then
# from its start; how long before the return the median marker arrived, and how many did.
run_one() { # P B LPORT PPORT N SIDE_PORT
  local P=$1 B=$2 lport=$3 pport=$4 n=$5 sport=$6 rpid="" file pos bpid c0 tps p95 l50 l99 s50 s99
  local ppid p0 r0=0 rc=0 h50 first
  bpid=$(binlogd_pid "$B"); ppid=$(srv_pid "$P")
  if [ "$n" -gt 0 ]; then
    # MySQL 8.4 and later know only SHOW BINARY LOG STATUS; MariaDB 10.11 only the older name.
    local q=(mariadb --no-defaults -h127.0.0.1 -P"$sport" -urepl -preplpass -N -B -e)
    read -r file pos < <({ "${q[@]}" "SHOW BINARY LOG STATUS" 2>/dev/null || "${q[@]}" "SHOW MASTER STATUS"; } \
      | awk '{ print $1, $2 }')
    nice -n 19 "$CLIENT" readers 127.0.0.1 "$sport" repl replpass "$file" "$pos" "$n" 0 > "$WORK/offload-readers.out" 2>&1 &
    rpid=$!; echo "$rpid" >> "$WORK/started.pids"
    for _ in $(seq 1 600); do grep -q ready "$WORK/offload-readers.out" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$WORK/offload-readers.out" || die "the readers did not connect: $(cat "$WORK/offload-readers.out")"
  fi
  echo 5 > "/proc/$bpid/clear_refs"
  c0=$(cpu_s "$bpid"); p0=$(cpu_s "$ppid"); [ -n "$rpid" ] && r0=$(cpu_s "$rpid")
  echo "# N=$n port $sport" >> "$WORK/offload-lag.trace"
  "$CLIENT" lag 127.0.0.1 "$pport" bench benchpass "$secs" "$mark_ms" 127.0.0.1 "$sport" repl replpass > "$WORK/offload-lag.out" 2>> "$WORK/offload-lag.trace" &
  local lpid=$!
  read -r tps _ p95 _ < <(load "$P" 16 "$secs")
  wait "$lpid" || die "the lag client failed"
  read -r _ l50 l99 _ s50 s99 _ _ h50 first _ < "$WORK/offload-lag.out"
  if [ -n "$rpid" ]; then
    rc=$(calc "$(cpu_s "$rpid") - $r0" 1)
    kill "$rpid"; wait "$rpid" 2>/dev/null || true
  fi
  echo "$tps $p95 $l50 $l99 $s50 $s99 $(calc "$(cpu_s "$bpid") - $c0" 1)" \
    "$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$bpid/status") $(calc "$(cpu_s "$ppid") - $p0" 1) $rc $h50 $first"
}

for flavor in $flavors; do
  P="$WORK/offload-$flavor"; B="$WORK/offload-$flavor-binlogd"
  srv_destroy "$P"; rm -rf "$B"
  pport=$(srv_start "$flavor" "$P" 1)
  srv_sql "$P" "SET GLOBAL $(semi_var "$flavor" enabled) = OFF; SET GLOBAL max_connections = 2000; CREATE DATABASE sbtest;
    CREATE DATABASE bench_lag; CREATE USER bench@'%' IDENTIFIED BY 'benchpass'; GRANT ALL ON *.* TO bench@'%'"
  sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$P")" --mysql-user=root --tables=1 \
    --table-size=10000 prepare >/dev/null
  srv_sql "$P" "SET GLOBAL $(semi_var "$flavor" enabled) = ON"
  lport=$(free_port)
  binlogd_start "$B" "$pport" "$lport" "max_connections = 2000"
  wait_clients "$P" "$flavor" 1; binlogd_caught_up "$P" "$flavor" "$lport"
  settle_disk
  rows=""; declare -A T L S C H F
  for n in $ns; do
    for side in primary binlogd; do
      [ "$n" = 0 ] && [ "$side" = binlogd ] && continue
      sport=$pport; [ "$side" = binlogd ] && sport=$lport
      read -r tps p95 l50 l99 s50 s99 cpu rss pcpu rcpu h50 first < <(run_one "$P" "$B" "$lport" "$pport" "$n" "$sport")
      # With no readers, the lag reader alone reads the primary; binlogd's is measured too.
      if [ "$n" = 0 ]; then
        read -r _ _ b50 b99 bs50 bs99 _ _ _ _ _ _ < <(run_one "$P" "$B" "$lport" "$pport" 0 "$lport")
        log "offload $flavor N=0: $tps tps, p95 $p95 ms, lag p99 primary $l99/$s99 ms, binlogd $b99/$bs99 ms"
        rows+="| 0 | — | $tps | $p95 | $l50 / $b50 | $l99 / $b99 | $s50 / $bs50 | $s99 / $bs99 | $cpu | $rss | $pcpu | – |"$'\n'
        T[0]=$tps
      else
        log "offload $flavor N=$n on $side: $tps tps, p95 $p95 ms, lag p50 $l50/$s50 p99 $l99/$s99 ms, binlogd CPU $cpu s, RSS $rss MiB"
        rows+="| $n | $side | $tps | $p95 | $l50 | $l99 | $s50 | $s99 | $cpu | $rss | $pcpu | $rcpu |"$'\n'
        T[$n$side]=$tps; L[$n$side]=$l99; S[$n$side]=$s99; H[$n$side]=$h50; F[$n$side]=$first
        C[$n$side]=$rcpu; [ "$side" = binlogd ] && C[$n$side]=$(calc "$cpu + $rcpu" 1)
      fi
    done
  done
  # binlogd's footprint with many connected readers, under the same load.
  read -r file pos < <(binlogd_pos "$lport")
  nice -n 19 "$CLIENT" readers 127.0.0.1 "$lport" repl replpass "$file" "$pos" "$many" 0 > "$WORK/offload-readers.out" 2>&1 &
  rpid=$!; echo "$rpid" >> "$WORK/started.pids"
  for _ in $(seq 1 900); do grep -q ready "$WORK/offload-readers.out" 2>/dev/null && break; sleep 0.1; done
  bpid=$(binlogd_pid "$B"); echo 5 > "/proc/$bpid/clear_refs"
  read -r tps_many _ < <(load "$P" 16 "$secs")
  rss_many=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$bpid/status")
  vsz_many=$(awk '/VmSize/ { printf "%.0f", $2 / 1024 }' "/proc/$bpid/status")
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$bpid/status")
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
  binlogd_stop "$B"; srv_destroy "$P"; rm -rf "$B"
  top=$(echo "$ns" | awk '{ print $NF }')
  {
    echo "### $flavor"
    echo
    echo "| N readers | dumping from | primary tps | p95 ms | lag p50 ms | lag p99 ms | from start p50 ms | from start p99 ms | binlogd CPU s | binlogd peak RSS MiB | primary CPU s | readers' CPU s |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    echo -n "$rows"
    echo
    echo "Lag: from the marker's return (0 when a reader had it first), then from the statement's start."
    echo "N = 0: lag from the primary / from binlogd. With $many readers connected to binlogd under the same"
    echo "load ($tps_many tps): peak RSS $rss_many MiB, $threads threads, $vsz_many MiB of address space."
    echo
    if [ "$top" -gt 0 ]; then
      r2=$(calc "${T[${top}binlogd]} / ${T[${top}primary]}")
      if [ -n "${T[0]:-}" ]; then
        r1=$(calc "${T[${top}binlogd]} / ${T[0]}")
        echo "- $top readers on binlogd keep $r1× the tps with none: target ≥ 0.95× ($(verdict "$r1" ">=" 0.95))."
      fi
      echo "- That is $r2× the tps with $top readers on the primary: target ≥ 1.5× ($(verdict "$r2" ">=" 1.5))."
      echo "- With $top readers on binlogd, binlogd and the readers used $(calc "${C[${top}binlogd]}" 1) CPU-seconds of"
      echo "  the run's $(($(nproc) * secs)); with them on the primary, the readers used ${C[${top}primary]}."
      for n in $ns; do
        [ "$n" = 0 ] && continue
        echo "- N = $n: lag p99 from binlogd ${L[${n}binlogd]} ms (from the start ${S[${n}binlogd]}), from the primary" \
          "${L[${n}primary]} ms (${S[${n}primary]}): no worse ($(verdict "${L[${n}binlogd]}" "<=" "${L[${n}primary]}"))." \
          "The median marker reached a reader of the primary ${H[${n}primary]} ms ahead of its commit's return" \
          "(${F[${n}primary]}% of them ahead), one of binlogd ${H[${n}binlogd]} ms ahead (${F[${n}binlogd]}%; negative: after)."
      done
    fi
    echo "- Peak RSS with $many readers: $rss_many MiB; target < 128 MiB with 1,000 ($(verdict "$rss_many" "<" 128))."
    echo
  } >> "$out"
  unset T L S C H F
done
cat "$out"
