#!/usr/bin/env bash
#! Semisync commit latency: sysbench oltp_insert on the primary at 1, 4 and 16 threads
#! with (a) binlogd as the only semisync acker (ACK after fsync), (b) a real replica of
#! the same server as the only acker (ACK after its relay log write), (c) the same
#! replica at equal durability (sync_relay_log = 1 and its metadata fsynced: ACK after an
#! fsync), (d) async, and (e) `bench_client fsync-acker`, the least an acker that
#! answers after fsync must do.
#! Reports tps, p50 and p95 for each, and binlogd's transactions per fsync.
#! Usage: latency.sh [mariadb|mysql]...   (default: both; quick: mariadb)
#!        latency.sh --plot   draws $BENCH_OUT/latency.png again from the last run's figures
. "$(dirname "$0")/lib.sh"

# The round with the most transactions per second, for FLAVOR SETUP THREADS.
best() { awk -v f="$1" -v s="$2" -v t="$3" '$1 == f && $2 == s && $3 == t' "$BENCH_OUT/latency.dat" | sort -g -r -k4 | head -1; }
# p50 (dashed) and p95 (solid) against threads for each set-up, one panel per primary,
# from latency.dat (each set-up's best round, as in the table).
plot() {
  local dat="$BENCH_OUT/latency.dat" pts="$BENCH_OUT/latency.plot" setups="binlogd replica async"
  local f s t flavors threads panels="" title
  command -v gnuplot >/dev/null 2>&1 || return 0
  [ -s "$dat" ] || die "$dat: no figures to plot (run latency.sh first)"
  flavors=$(awk '!seen[$1]++ { print $1 }' "$dat")
  threads=$(awk '{ print $3 }' "$dat" | sort -n | uniq)
  for f in $flavors; do for s in $setups; do
    for t in $threads; do
      best "$f" "$s" "$t"
    done
  done; done | awk '{ print $1, $2, $3, $5, $6 }' > "$pts"
  for f in $flavors; do
    case $f in mariadb) title="MariaDB primary" ;; mysql) title="MySQL primary" ;; *) title="$f primary" ;; esac
    panels+="set title '$title'; plot for [i=1:3] '$pts' using (strcol(1) eq '$f' \
      && strcol(2) eq word(setups, i) ? \$3 : 1/0):5 with linespoints lw 2 lc i dt 1 \
      title word(setups, i).' p95', for [i=1:3] '$pts' using (strcol(1) eq '$f' \
      && strcol(2) eq word(setups, i) ? \$3 : 1/0):4 with linespoints lw 2 lc i dt 2 \
      title word(setups, i).' p50';"
  done
  gnuplot -e "set terminal pngcairo size 1100,450 font ',10'; set output '$BENCH_OUT/latency.png'; \
    setups = '$setups'; set termoption noenhanced; set logscale x 2; set yrange [0:*]; \
    set xrange [0.8:$(echo "$threads" | tail -1) * 1.25]; set xtics ($(echo "$threads" | tr '\n ' ,, | sed 's/,$//')); \
    set xlabel 'sysbench oltp_insert threads'; set ylabel 'commit latency (ms)'; \
    set key top left; set multiplot layout 1,$(echo "$flavors" | wc -w); $panels unset multiplot" || true
}
if [ "${1:-}" = --plot ]; then plot; exit 0; fi

[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
flavors=${*:-mariadb mysql}
secs=15; rounds=2; threads="1 4 16"
# The fsync acker's thread counts: a quick run measures it at one thread only, as every
# run it takes at 16 adds a backlog the replica must apply before its own turn.
acker_threads="1 4 16"
# Quick: MariaDB alone (as offload.sh), to keep run.sh --quick within its minutes.
if [ "$BENCH_QUICK" = 1 ]; then secs=3; rounds=1; threads="1 16"; acker_threads=1; flavors=${*:-mariadb}; fi

# The fsync acker's fsyncs and their total µs so far (it reports them each second).
acker_counters() { awk 'END { print $2 + 0, $4 + 0 }' "$WORK/lat-acker.err"; }
replica_caught_up() { # PRIMARY REPLICA FLAVOR
  local g
  if [ "$3" = mysql ]; then
    g=$(srv_sql "$1" "SELECT REPLACE(@@GLOBAL.gtid_executed, '\n', '')")
    [ "$(srv_sql "$2" "SELECT WAIT_FOR_EXECUTED_GTID_SET('$g', 600)")" = 0 ] || die "the replica did not apply $g"
  else
    g=$(srv_sql "$1" "SELECT @@GLOBAL.gtid_binlog_pos")
    [ "$(srv_sql "$2" "SELECT MASTER_GTID_WAIT('$g', 600)")" = 0 ] || die "the replica did not apply $g"
  fi
}

rows=""; acker_pid=""
for f in $flavors; do
  P="$WORK/lat-$f-primary"; R="$WORK/lat-$f-replica"; B="$WORK/lat-$f-binlogd"
  srv_destroy "$P"; srv_destroy "$R"; rm -rf "$B"
  pport=$(srv_start "$f" "$P" 1); srv_start "$f" "$R" 2 >/dev/null
  # No acker yet: with semisync on, the first commit would wait out its 30 s timeout.
  srv_sql "$P" "SET GLOBAL $(semi_var "$f" enabled) = OFF; CREATE DATABASE sbtest"
  sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$P")" --mysql-user=root --tables=1 \
    --table-size=10000 prepare >/dev/null
  # The replica must not wait for acks of its own.
  srv_sql "$R" "SET GLOBAL $(semi_var "$f" enabled) = OFF"
  if [ "$f" = mysql ]; then
    srv_sql "$R" "INSTALL PLUGIN rpl_semi_sync_replica SONAME 'semisync_replica.so'; SET GLOBAL rpl_semi_sync_replica_enabled = ON"
    srv_sql "$R" "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT=$pport, SOURCE_USER='repl', SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1"
    start_r="START REPLICA"; stop_r="STOP REPLICA"
    # The durable replica: its relay log and connection metadata fsynced for each event
    # (relay_log_info_repository is a table, crash-safe), so its ACK follows an fsync too.
    durable_r="SET GLOBAL sync_relay_log = 1, sync_source_info = 1"
    default_r="SET GLOBAL sync_relay_log = 10000, sync_source_info = 10000"
  else
    srv_sql "$R" "SET GLOBAL rpl_semi_sync_slave_enabled = ON"
    srv_sql "$R" "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$pport, MASTER_USER='repl', MASTER_PASSWORD='replpass', MASTER_USE_GTID=slave_pos"
    start_r="START SLAVE"; stop_r="STOP SLAVE"
    durable_r="SET GLOBAL sync_relay_log = 1, sync_master_info = 1, sync_relay_log_info = 1"
    default_r="SET GLOBAL sync_relay_log = 10000, sync_master_info = 10000, sync_relay_log_info = 10000"
  fi
  lport=$(free_port)
  settle_disk
  # The set-ups take turns at each thread count, so a slower spell of this shared
  # disk (earlier benchmarks' deletions, discarded at the next journal commit) falls on
  # them all alike.
  for t in $threads; do
    for round in $(seq 1 "$rounds"); do
    for setup in binlogd nolog fsync-acker replica durable async; do
      [ "$setup" = fsync-acker ] && ! [[ " $acker_threads " == *" $t "* ]] && continue
      case $setup in
        binlogd)
          srv_sql "$P" "SET GLOBAL $(semi_var "$f" enabled) = ON"
          binlogd_start "$B" "$pport" "$lport"; wait_clients "$P" "$f" 1; binlogd_caught_up "$P" "$f" "$lport" ;;
        nolog)
          # binlogd again, without its sync log: each fsync is the binlog file's own,
          # which grows at each one. What the sync log gains.
          binlogd_stop "$B"; wait_clients "$P" "$f" 0
          binlogd_start "$B" "$pport" "$lport" "binlog_sync_log_size = 0"; wait_clients "$P" "$f" 1
          binlogd_caught_up "$P" "$f" "$lport" ;;
        fsync-acker)
          binlogd_stop "$B"; wait_clients "$P" "$f" 0
          "$CLIENT" fsync-acker 127.0.0.1 "$pport" repl replpass 1002 "$WORK/lat-acker.bin" 2>"$WORK/lat-acker.err" &
          acker_pid=$!; echo "$acker_pid" >> "$WORK/started.pids"; wait_clients "$P" "$f" 1 ;;
        replica)
          if [ -n "$acker_pid" ]; then kill "$acker_pid"; wait "$acker_pid" 2>/dev/null || true; acker_pid=""; fi
          binlogd_stop "$B"; rm -f "$WORK/lat-acker.bin"
          wait_clients "$P" "$f" 0
          srv_sql "$R" "$default_r; $start_r"; wait_clients "$P" "$f" 1; replica_caught_up "$P" "$R" "$f" ;;
        durable)
          # The same replica, fsyncing what it receives before it acknowledges.
          # (A MySQL primary may count the stopped connection until its next write to it:
          # the replica's new one replaces it.)
          srv_sql "$R" "$stop_r"
          srv_sql "$R" "$durable_r; $start_r"; wait_clients "$P" "$f" 1; replica_caught_up "$P" "$R" "$f" ;;
        async)
          srv_sql "$R" "$stop_r"; srv_sql "$P" "SET GLOBAL $(semi_var "$f" enabled) = OFF" ;;
      esac
      sync
      no_tx0=$(semi_stat "$P" "$f" no_tx)
      is_binlogd=0; case $setup in binlogd | nolog) is_binlogd=1 ;; esac
      [ "$is_binlogd" = 1 ] && read -r fs0 fst0 ac0 act0 < <(ack_counters "$lport")
      [ "$setup" = fsync-acker ] && read -r fs0 fst0 < <(acker_counters)
      # The acker's own CPU time per commit (binlogd's three threads, or the fsync acker's one).
      apid=""; [ "$is_binlogd" = 1 ] && apid=$(binlogd_pid "$B"); [ "$setup" = fsync-acker ] && apid=$acker_pid
      [ -n "$apid" ] && c0=$(cpu_s "$apid")
      read -r tps p50 p95 n < <(load "$P" "$t" "$secs")
      cpu_us="–"; [ -n "$apid" ] && cpu_us=$(calc "($(cpu_s "$apid") - $c0) * 1e6 / $n" 1)
      per_fsync="–"; fsync_us="–"; ack_us="–"
      if [ "$is_binlogd" = 1 ]; then
        read -r fs fst ac act < <(ack_counters "$lport")
        per_fsync=$(calc "$n / ($fs - $fs0 + 0.0001)" 2)
        fsync_us=$(calc "($fst - $fst0) / ($fs - $fs0 + 0.0001)" 0)
        ack_us=$(calc "($act - $act0) / ($ac - $ac0 + 0.0001)" 0)
      elif [ "$setup" = fsync-acker ]; then
        read -r fs fst < <(acker_counters)
        fsync_us=$(calc "($fst - $fst0) / ($fs - $fs0 + 0.0001)" 0)
      fi
      no_tx=$(( $(semi_stat "$P" "$f" no_tx) - no_tx0 ))
      log "latency $f $setup $t threads, round $round: $tps tps, p50 $p50 ms, p95 $p95 ms, no_tx $no_tx, tx/fsync $per_fsync, fsync $fsync_us µs, ACK $ack_us µs, CPU $cpu_us µs/commit"
      echo "$f $setup $t $tps $p50 $p95 $no_tx $per_fsync $fsync_us $ack_us $cpu_us" >> "$BENCH_OUT/latency.dat.new"
    done
    done
  done
  srv_destroy "$P"; srv_destroy "$R"; rm -rf "$B"
done
mv "$BENCH_OUT/latency.dat.new" "$BENCH_OUT/latency.dat"
no_tx() { awk -v f="$1" -v s="$2" -v t="$3" '$1 == f && $2 == s && $3 == t { n += $7 } END { print n + 0 }' "$BENCH_OUT/latency.dat"; }

{
  echo "## Semisync commit latency: sysbench oltp_insert, ${secs}s per run, best of $rounds"
  echo
  echo "Each primary has one semisync acker at a time (AFTER_SYNC). binlogd acknowledges after"
  echo "fsync (\`sync_binlog = 1\`); the real replica after writing its relay log. \`no_tx\` counts"
  echo "commits that timed out waiting for an ACK (there must be none). The set-ups take"
  echo "turns at each thread count, $rounds round(s) of them, after the disk's fsync latency has"
  echo "settled; each acker first catches up on what the primary wrote while it was stopped."
  echo "Each side's round with the most transactions is shown: on this shared machine a slow"
  echo "spell of the disk can halve one run's figures, whichever set-up it falls on."
  echo "An acker's CPU per commit is its user and system time over the run (for binlogd, its"
  echo "reader, writer and acker threads and all else) divided by the commits made."
  echo
  echo "| server | threads | binlogd tps | replica tps | async tps | binlogd p50 / p95 ms | replica p50 / p95 ms | async p50 / p95 ms | tps ratio | p95 ratio | binlogd tx per fsync | binlogd fsync / ACK µs | binlogd CPU µs per commit |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  short=""; floor_short=""
  for f in $flavors; do
    for t in $threads; do
      read -r _ _ _ btps bp50 bp95 bno bpf bfs back bcpu < <(best "$f" binlogd "$t")
      read -r _ _ _ rtps rp50 rp95 rno _ < <(best "$f" replica "$t")
      read -r _ _ _ atps ap50 ap95 _ _ < <(best "$f" async "$t")
      # Commits that timed out, in any round.
      bno=$(no_tx "$f" binlogd "$t"); rno=$(no_tx "$f" replica "$t")
      echo "| $f | $t | $btps | $rtps | $atps | $bp50 / $bp95 | $rp50 / $rp95 | $ap50 / $ap95 | $(calc "$btps / $rtps") × | $(calc "$bp95 / $rp95") × | $bpf | ${bfs:-–} / ${back:-–} | ${bcpu:-–} |"
      if [ "$(calc "($btps >= $rtps) && ($bp95 <= $rp95)" 0)" != 1 ]; then
        short+="${short:+, }$f at $t"
        ftps=""; read -r _ _ _ ftps _ fp95 _ < <(best "$f" fsync-acker "$t") || true
        if [ -n "$ftps" ]; then floor_short+="${floor_short:+; }$f at $t thread(s), $(calc "$ftps / $rtps")× and $(calc "$fp95 / $rp95")×"; fi
      fi
      [ "$bno" = 0 ] && [ "$rno" = 0 ] || echo "| | | no_tx: binlogd $bno, replica $rno | | | | | | | | | | |"
    done
  done
  echo
  echo "Targets: binlogd's tps ≥ 1.0× and p95 ≤ 1.0× the real replica's, at every thread count"
  if [ -z "$short" ]; then echo "(met)."; else echo "(**NOT met**: $short)."; fi
  echo
  echo "### At equal durability: a replica whose ACK also follows an fsync"
  echo
  echo "The real replica above acknowledges once its relay log is written, not fsynced. The fair"
  echo "anchor makes binlogd's promise: the same replica, in its own turn, with \`sync_relay_log = 1\`"
  echo "and its connection metadata fsynced too (MariaDB: \`sync_master_info = 1\`,"
  echo "\`sync_relay_log_info = 1\`; MySQL: \`sync_source_info = 1\`, its relay log info a table),"
  echo "caught up before its run. binlogd's floor is the fsync acker: the least an ACK after fsync"
  echo "costs on this disk (measured at $(echo "$acker_threads" | tr ' ' ',') thread(s))."
  echo
  echo "| server | threads | binlogd tps | durable replica tps | tps ratio | binlogd p95 ms | durable replica p95 ms | p95 ratio | binlogd / fsync acker tps |"
  echo "|---|---|---|---|---|---|---|---|---|"
  eq_short=""; fl_short=""
  for f in $flavors; do
    for t in $threads; do
      read -r _ _ _ btps _ bp95 _ < <(best "$f" binlogd "$t")
      dtps=""; read -r _ _ _ dtps _ dp95 _ < <(best "$f" durable "$t") || true
      [ -n "$dtps" ] || continue
      ftps=""; read -r _ _ _ ftps _ < <(best "$f" fsync-acker "$t") || true
      floor="–"; [ -n "$ftps" ] && floor="$(calc "$btps / $ftps") ×"
      echo "| $f | $t | $btps | $dtps | $(calc "$btps / $dtps") × | $bp95 | $dp95 | $(calc "$bp95 / $dp95") × | $floor |"
      if [ "$(calc "($btps >= 2 * $dtps) && ($bp95 <= 0.5 * $dp95)" 0)" != 1 ]; then eq_short+="${eq_short:+, }$f at $t"; fi
      if [ -n "$ftps" ] && [ "$(calc "$btps * 1.05 >= $ftps" 0)" != 1 ]; then fl_short+="${fl_short:+, }$f at $t"; fi
      dno=$(no_tx "$f" durable "$t")
      [ "$dno" = 0 ] || echo "| | | no_tx: durable replica $dno | | | | | | |"
    done
  done
  echo
  echo "Targets: binlogd's tps ≥ 2× and p95 ≤ 0.5× the durable replica's at every thread count"
  if [ -z "$eq_short" ]; then echo "(met);"; else echo "(**NOT met**: $eq_short);"; fi
  echo "binlogd within 1.05× of the fsync acker's tps"
  if [ -z "$fl_short" ]; then echo "(met)."; else echo "(**NOT met**: $fl_short)."; fi
  echo
  echo "### What the sync log gains"
  echo
  echo "binlogd keeps every file in binlog_dir a whole binlog at every moment, so that"
  echo "\`mysqlbinlog\` reads its active file while it runs. On ext4 an fdatasync after an append"
  echo "that grows a file also commits its new size to the journal. By default binlogd copies each"
  echo "live batch to \`binlogd.synclog\`, a file of zeros written once, and fdatasyncs that: the"
  echo "fsync flushes data only, and the binlog file is fsynced when the log is full. With"
  echo "\`binlog_sync_log_size = 0\` it fsyncs the binlog file itself. Both take their turn in the same run:"
  echo
  echo "| server | threads | binlogd tps, sync log (default) | binlogd tps, without | with / without tps | p95 ms, with / without | mean fsync µs, with / without |"
  echo "|---|---|---|---|---|---|---|"
  for f in $flavors; do
    for t in $threads; do
      read -r _ _ _ btps _ bp95 _ _ bfs _ < <(best "$f" binlogd "$t")
      ptps=""; read -r _ _ _ ptps _ pp95 _ _ pfs _ < <(best "$f" nolog "$t") || true
      [ -n "$ptps" ] || continue
      echo "| $f | $t | $btps | $ptps | $(calc "$btps / $ptps") × | $bp95 / $pp95 | $bfs / $pfs |"
    done
  done
  echo
  echo "### The least an acker after fsync must do"
  echo
  echo "\`bench_client fsync-acker\` (in \`examples/\`) is a fourth set-up, taking its turn with the"
  echo "others: one thread that reads each event from the primary, appends it to a file over zeros"
  echo "written ahead (as binlogd does), and once the primary has asked for a reply and nothing more"
  echo "has arrived, runs one fdatasync and sends one reply. It checks no CRC, writes all of the"
  echo "primary's files into one, serves nothing and hands nothing to another thread. What binlogd takes beyond it"
  echo "is the cost of its checks and of its reader, writer and acker threads; where it falls short"
  echo "of the real replica, no acker that answers after an fsync on this disk would meet the target."
  [ "$BENCH_QUICK" = 1 ] && echo "A \`--quick\` run measures it at one thread only."
  echo
  echo "| server | threads | fsync acker tps | fsync acker p50 / p95 ms | its mean fsync µs | its CPU µs per commit | fsync acker / replica tps | binlogd / fsync acker tps |"
  echo "|---|---|---|---|---|---|---|---|"
  for f in $flavors; do
    for t in $threads; do
      read -r _ _ _ btps _ < <(best "$f" binlogd "$t")
      read -r _ _ _ rtps _ < <(best "$f" replica "$t")
      ftps=""; read -r _ _ _ ftps fp50 fp95 _ _ ffs _ fcpu < <(best "$f" fsync-acker "$t") || true
      [ -n "$ftps" ] || continue
      echo "| $f | $t | $ftps | $fp50 / $fp95 | $ffs | ${fcpu:-–} | $(calc "$ftps / $rtps") × | $(calc "$btps / $ftps") × |"
      fno=$(no_tx "$f" fsync-acker "$t")
      [ "$fno" = 0 ] || echo "| | | no_tx: $fno | | | | | |"
    done
  done
  echo
  if [ -n "$floor_short" ]; then
    echo "Where binlogd misses its target, the fsync acker's tps and p95 against the real replica's"
    echo "were: $floor_short."
    echo
  fi
  echo "What limits it: binlogd's ACK waits for an fdatasync of the appended bytes, which a real"
  echo "replica's ACK does not; with one client thread nothing can be batched, so each commit"
  echo "pays that fsync. The last column is binlogd's own account of the run shown (its status"
  echo "counters Binlogd_fsync_time_us and Binlogd_ack_time_us): the mean time of a write and"
  echo "fsync, and the mean time from the event that asked for an ACK to the ACK sent. At one"
  echo "thread the two differ by the writer's work before the fsync and the hand-off from the"
  echo "writer to the acker; the ACK is the fsync and little else. With more threads one fsync and one"
  echo "cumulative ACK serve several commits (tx per fsync), and an event that arrives during an"
  echo "fsync waits for it to end before its own begins, so the mean ACK grows longer than the"
  echo "mean fsync. Each of binlogd's threads wakes the next only after letting go of the lock"
  echo "they share (one woken while it is held wakes only to wait for it, a second context"
  echo "switch), and the threads that work on whole files (the GTID index, archiving) wait for a"
  echo "new file list, not for each fsync."
  # At the lowest thread count: what the real replica adds to an async commit, against
  # binlogd's fsync alone.
  t=${threads%% *}
  for f in $flavors; do
    read -r _ _ _ _ bp50 _ _ _ bfs _ < <(best "$f" binlogd "$t")
    read -r _ _ _ _ rp50 _ _ _ < <(best "$f" replica "$t")
    read -r _ _ _ _ ap50 _ _ _ < <(best "$f" async "$t")
    if [ -z "$bfs" ] || [ "$bfs" = – ]; then continue; fi
    echo "On $f with sysbench at $t thread(s), the real replica adds $(calc "($rp50 - $ap50) * 1000" 0) µs to the async"
    echo "commit's p50 and binlogd $(calc "($bp50 - $ap50) * 1000" 0) µs, of which its fsyncs take $bfs µs on average."
  done
  echo "The primary's own binlog and redo fsyncs go to the same disk, so binlogd's"
  echo "fsyncs also lengthen the primary's."
  if command -v gnuplot >/dev/null 2>&1; then
    echo
    echo "![commit latency](bench/latency.png)"
  fi
} > "$BENCH_OUT/latency.md"
plot
cat "$BENCH_OUT/latency.md"
