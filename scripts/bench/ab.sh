#!/usr/bin/env bash
#! Before and after: two binlogd binaries take turns as the only semisync acker of one
#! primary (ACK after fsync, sync_binlog = 1), under sysbench oltp_insert. For a change
#! that must not slow binlogd: with the turns interleaved, a slow spell of the disk falls
#! on both sides alike, and the spread within each side shows what the figures can tell.
#! Usage: ab.sh OLD_BINARY NEW_BINARY [mariadb|mysql]...   (default: both)
#! AB_ROUNDS (6) rounds, each runs AB_SECS (10) seconds at each of AB_THREADS ("1 16")
#! per binary, the order alternating between rounds. Writes $BENCH_OUT/ab.md.
. "$(dirname "$0")/lib.sh"
if [ $# -lt 2 ] || ! [ -x "$1" ] || ! [ -x "$2" ]; then sed -n '1d; s/^#! \{0,1\}//p' "$0"; exit 2; fi
old=$1; new=$2; shift 2
flavors=${*:-mariadb mysql}
rounds=${AB_ROUNDS:-6}; secs=${AB_SECS:-10}; threads=${AB_THREADS:-1 16}
[ -x "$CLIENT" ] || bench_build
dat="$BENCH_OUT/ab.dat"; : > "$dat"

for f in $flavors; do
  P="$WORK/ab-$f-primary"; B="$WORK/ab-$f-binlogd"
  srv_destroy "$P"; rm -rf "$B"
  pport=$(srv_start "$f" "$P" 1)
  srv_sql "$P" "SET GLOBAL $(semi_var "$f" enabled) = OFF; CREATE DATABASE sbtest"
  sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$P")" --mysql-user=root --tables=1 \
    --table-size=10000 prepare >/dev/null
  srv_sql "$P" "SET GLOBAL $(semi_var "$f" enabled) = ON"
  lport=$(free_port)
  settle_disk
  for round in $(seq 1 "$rounds"); do
    order="old new"; [ $((round % 2)) = 0 ] && order="new old"
    for t in $threads; do
      for side in $order; do
        # binlogd_start runs $BINLOGD.
        if [ "$side" = old ]; then BINLOGD=$old; else BINLOGD=$new; fi
        export BINLOGD
        # Both binaries keep the same binlog_dir: each starts where the other stopped.
        binlogd_start "$B" "$pport" "$lport"; wait_clients "$P" "$f" 1; binlogd_caught_up "$P" "$f" "$lport"
        sync
        no_tx0=$(semi_stat "$P" "$f" no_tx)
        read -r fs0 fst0 _ _ < <(ack_counters "$lport")
        c0=$(cpu_s "$(binlogd_pid "$B")")
        read -r tps p50 p95 n < <(load "$P" "$t" "$secs")
        cpu_us=$(calc "($(cpu_s "$(binlogd_pid "$B")") - $c0) * 1e6 / $n" 1)
        read -r fs fst _ _ < <(ack_counters "$lport")
        fsync_us=$(calc "($fst - $fst0) / ($fs - $fs0 + 0.0001)" 0)
        no_tx=$(( $(semi_stat "$P" "$f" no_tx) - no_tx0 ))
        binlogd_stop "$B"; wait_clients "$P" "$f" 0
        log "ab $f $t threads, round $round, $side: $tps tps, p50 $p50 ms, p95 $p95 ms, no_tx $no_tx, fsync $fsync_us µs, CPU $cpu_us µs/commit"
        echo "$f $t $side $tps $p95 $no_tx $fsync_us $cpu_us" >> "$dat"
      done
    done
  done
  srv_destroy "$P"; rm -rf "$B"
done

# The median of the values on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v f="$1" -v t="$2" -v s="$3" -v c="$4" '$1 == f && $2 == t && $3 == s { print $c }' "$dat"; }
{
  echo "## Before and after: semisync tps of two binlogd binaries, interleaved"
  echo
  echo "\`scripts/bench/ab.sh\`: old \`$old\`, new \`$new\`; $rounds rounds of ${secs}s per side and"
  echo "thread count, taking turns as the only acker of one primary. min–max is the spread across rounds."
  echo
  echo "| server | threads | old tps median (min–max) | new tps median (min–max) | new / old | old p95 ms median | new p95 ms median | fsync µs median old / new | binlogd CPU µs per commit median old / new | no_tx |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for f in $flavors; do for t in $threads; do
    om=$(col "$f" "$t" old 4 | median); nm=$(col "$f" "$t" new 4 | median)
    orange="$(col "$f" "$t" old 4 | sort -g | head -1)–$(col "$f" "$t" old 4 | sort -g | tail -1)"
    nrange="$(col "$f" "$t" new 4 | sort -g | head -1)–$(col "$f" "$t" new 4 | sort -g | tail -1)"
    nt=$(awk -v f="$f" -v t="$t" '$1 == f && $2 == t { n += $6 } END { print n + 0 }' "$dat")
    echo "| $f | $t | $om ($orange) | $nm ($nrange) | $(calc "$nm / $om") | $(col "$f" "$t" old 5 | median) | $(col "$f" "$t" new 5 | median) | $(col "$f" "$t" old 7 | median) / $(col "$f" "$t" new 7 | median) | $(col "$f" "$t" old 8 | median) / $(col "$f" "$t" new 8 | median) | $nt |"
  done; done
} | tee "$BENCH_OUT/ab.md"
