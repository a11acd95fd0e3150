#!/usr/bin/env bash
#! Shared helpers for the benchmarks (sourced by each scripts/bench/*.sh).
#! Each benchmark writes a Markdown section to $BENCH_OUT/<name>.md; run.sh joins
#! them into BENCHMARKS.md. BENCH_QUICK=1 shrinks sizes and durations.
set -euo pipefail
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/../.." && pwd)
. "$repo/scripts/lib.sh"
SERVER="$repo/scripts/server.sh"
BENCH_OUT=${BENCH_OUT:-$repo/target/bench}
BENCH_QUICK=${BENCH_QUICK:-0}
WORK=${BENCH_WORK:-/var/tmp/binlogd-bench}
# The static binary, as it is deployed.
BINLOGD=${BENCH_BINLOGD:-$repo/target/x86_64-unknown-linux-musl/release/binlogd}
CLIENT=${BENCH_CLIENT:-$repo/target/x86_64-unknown-linux-musl/release/examples/bench_client}
TCK=$(getconf CLK_TCK)
mkdir -p "$BENCH_OUT" "$WORK"

# Whatever happens, no binlogd started here outlives the script.
bench_cleanup() {
  local p
  [ -f "$WORK/started.pids" ] || return 0
  while read -r p; do kill "$p" 2>/dev/null || true; done < "$WORK/started.pids"
  rm -f "$WORK/started.pids"
}
trap bench_cleanup EXIT

# What the tests need, and gnuplot for the latency plot (the benchmarks run without it).
bench_deps() {
  "$repo/scripts/install-deps.sh"
  if ! command -v gnuplot >/dev/null 2>&1; then
    log "apt-get install gnuplot-nox"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null 2>&1 \
      || log "gnuplot-nox could not be installed: no latency plot"
  fi
}

bench_build() {
  bench_deps
  "$repo/scripts/build-static.sh" --quiet --example bench_client >/dev/null
}

# Waits until the disk's fsync latency is steady: what was deleted before (a data dir,
# a benchmark's files) is discarded at the next journal commit, and the device may take
# seconds over it, slowing the fsyncs of whatever is measured next.
settle_disk() {
  sync
  local prev=0 cur
  for _ in $(seq 1 30); do
    sleep 1
    cur=$("$CLIENT" fsync-p50 "$WORK" 200)
    if [ "$prev" -gt 0 ] && [ "$(calc "($cur < 1.2 * $prev) && ($prev < 1.2 * $cur)" 0)" = 1 ]; then return 0; fi
    prev=$cur
  done
}

# CPU seconds (user + system) a live process has used.
cpu_s() { awk -v t="$TCK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
now() { date +%s.%N; }
# Bytes sent over loopback so far (both directions of every local connection).
lo_bytes() { awk -F'[: ]+' '$2 == "lo" { print $11 }' /proc/net/dev; }
# The expression is parenthesized: a bare ">" in awk's printf would redirect its output.
calc() { awk "BEGIN { printf \"%.${2:-2}f\", ($1) }"; }

# "met" or "NOT met": does VALUE compare to TARGET with OP (">=" or "<=")?
verdict() { if [ "$(calc "(($1) $2 ($3))" 0)" = 1 ]; then echo "met"; else echo "**NOT met**"; fi; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while :; do p=$((20000 + RANDOM % 30000)); port_free "$p" && { echo "$p"; return; }; done
}

# A server from scripts/server.sh: start FLAVOR DIR [ID] -> sets nothing, prints port.
srv_start() {
  local port; port=$(free_port)
  "$SERVER" start "$1" "$2" "$port" "${3:-1}" >/dev/null
  echo "$port"
}
srv_sql() { "$SERVER" sql "$@"; }
srv_pid() { cat "$(cat "$1/root")/mysqld.pid"; }
srv_sock() { echo "$(cat "$1/root")/sock"; }
srv_destroy() { "$SERVER" destroy "$1" >/dev/null 2>&1 || true; rm -rf "$1"; }
# Sum of the sizes SHOW BINARY LOGS reports.
srv_binlog_bytes() { srv_sql "$1" "SHOW BINARY LOGS" | awk '{ s += $2 } END { print s + 0 }'; }
srv_first_binlog() { srv_sql "$1" "SHOW BINARY LOGS" | awk 'NR == 1 { print $1 }'; }

# binlogd in DIR mirroring the primary on PORT, serving on LISTEN; extra cnf lines follow.
binlogd_start() { # DIR PRIMARY_PORT LISTEN [extra...]
  local d=$1 pport=$2 lport=$3; shift 3
  mkdir -p "$d"
  {
    printf '[binlogd]\nmaster_host = 127.0.0.1\nmaster_port = %s\n' "$pport"
    printf 'master_user = repl\nmaster_password = replpass\nbinlog_dir = %s/binlogs\n' "$d"
    printf 'log_file = %s/binlogd.log\nlisten_address = 127.0.0.1\nlisten_port = %s\n' "$d" "$lport"
    printf 'user = %s\n' "$(id -un)"
    # Defaults, unless the extra lines set the same key.
    for l in "server_id = 1001" "get_start_gtid_mode = 2" "sync_binlog = 1" "heartbeat_period = 1" "master_retry_max = 1"; do
      case " $* " in *" ${l%% =*} ="*) ;; *) printf '%s\n' "$l" ;; esac
    done
    for l in "$@"; do printf '%s\n' "$l"; done
  } > "$d/binlogd.cnf"
  "$BINLOGD" "$d/binlogd.cnf" >/dev/null 2>"$d/stderr" &
  echo $! > "$d/pid"
  echo $! >> "$WORK/started.pids"
  disown $!   # killed on purpose at times: no job-control notice
}
binlogd_pid() { cat "$1/pid"; }
binlogd_stop() { local p; p=$(cat "$1/pid" 2>/dev/null) || return 0; kill "$p" 2>/dev/null || true; wait_gone "$p"; }
# Waits for PID to end. A process whose parent is gone (binlogd started by `bench_client
# restart`) stays a zombie until init reaps it, which can take a second: that counts as ended.
gone() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ] || ! kill -0 "$1" 2>/dev/null; }
wait_gone() { for _ in $(seq 1 300); do gone "$1" && return 0; sleep 0.1; done; kill -9 "$1" 2>/dev/null || true; }
binlogd_bytes() { find "$1/binlogs" -maxdepth 1 -name '*-bin.[0-9]*' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
# Runs a query on binlogd's own port.
binlogd_sql() { mariadb --no-defaults -h127.0.0.1 -P"$1" -urepl -preplpass -N -B -e "$2"; }
binlogd_status() { binlogd_sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | awk '{ print $2 }'; }
# binlogd's last file and durable position, "file pos": SHOW BINARY LOG STATUS where the
# primary's version has it (MySQL 8.2+, MariaDB 11.4+), else SHOW MASTER STATUS.
binlogd_pos() {
  { binlogd_sql "$1" "SHOW BINARY LOG STATUS" 2>/dev/null || binlogd_sql "$1" "SHOW MASTER STATUS"; } \
    | awk '{ print $1, $2 }'
}

# Waits until binlogd in DIR has BYTES durable; prints the seconds it took since START.
# The client asks binlogd every 5 ms over one connection, not a few processes per look,
# so the wait takes next to none of the CPU the catch-up it times needs.
wait_stored() { # DIR BYTES START LIMIT_S
  local d=$1
  "$CLIENT" wait-stored "$(awk -F' = ' '$1 == "listen_port" { print $2 }' "$d/binlogd.cnf")" repl replpass \
    "$(cat "$d/pid")" "$2" "$3" "${4:-600}" || die "binlogd in $d: $(tail -5 "$d/binlogd.log" 2>/dev/null)"
}

# binlogd in DIR (made afresh) mirroring the data set in DATASET, serving on LISTEN;
# returns once it holds all of the primary's binlog, durably.
binlogd_mirror() { # DIR DATASET LISTEN
  rm -rf "$1"
  binlogd_start "$1" "$(cat "$2/port")" "$3"
  wait_stored "$1" "$(srv_binlog_bytes "$2")" "$(now)" >/dev/null
}

# mariadb-binlog --raw (or, for FLAVOR mysql, the sid chroot's mysqlbinlog --raw, DIR then
# under $SID_ROOT) from 127.0.0.1:PORT of FIRST and every later file into DIR; prints
# "wall_s user_s sys_s" of the client.
# Without TLS either way: the client would take it from binlogd (which offers it by
# default) and not from a MariaDB test server without certificates, and compare unlike
# with unlike (encryption was most of binlogd's serving CPU). MySQL's caching_sha2
# password then goes RSA-encrypted with the server's public key.
# RAW_EXTRA: more options for the tool (the compressed protocol's, say).
raw_read() { # PORT FIRST DIR [FLAVOR]
  local t0 out tool=(mariadb-binlog) plain=(--skip-ssl) dir=$3 extra=()
  [ -z "${RAW_EXTRA:-}" ] || read -ra extra <<<"$RAW_EXTRA"
  if [ "${4:-mariadb}" = mysql ]; then
    tool=(chroot "$SID_ROOT" /usr/bin/mysqlbinlog); plain=(--ssl-mode=DISABLED --get-server-public-key)
    dir=${3#"$SID_ROOT"}
  fi
  mkdir -p "$3"
  t0=$(now)
  out=$( ( "${tool[@]}" --no-defaults "${plain[@]}" --read-from-remote-server --host=127.0.0.1 --port="$1" --user=repl \
      --password=replpass --raw --to-last-log "${extra[@]}" --result-file="$dir/" "$2" >/dev/null 2>"$3.err" || { echo FAILED; exit 1; }
    times ) | tail -1)
  [ "$out" != FAILED ] || die "${tool[*]} from port $1: $(grep -v Warning "$3.err")"
  # `times` prints the children's user and system time as "XmY.YYYs XmY.YYYs".
  echo "$(calc "$(now) - $t0" 3) $(echo "$out" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); printf "%.3f ", a[1] * 60 + a[2] } }')"
}

# A primary (mariadb, the default, or mysql) holding a fixed binlog made by sysbench
# prepare: the catch-up data set. Kept running between the benchmarks of one run: prints
# its dir. MariaDB's binlog holds each INSERT's text too (binlog_annotate_row_events), so
# MySQL needs about twice the rows for the same bytes.
dataset() {
  local flavor=${1:-mariadb} d="$WORK/dataset" rows=250000 semi=rpl_semi_sync_master_enabled
  if [ "$flavor" = mysql ]; then d="$WORK/dataset-mysql"; rows=480000; semi=rpl_semi_sync_source_enabled; fi
  [ "$BENCH_QUICK" = 1 ] && rows=$((rows / 4))
  if [ "$(cat "$d/ready" 2>/dev/null)" = "$rows" ] && srv_sql "$d" "SELECT 1" >/dev/null 2>&1; then echo "$d"; return; fi
  srv_destroy "$d"
  local port; port=$(srv_start "$flavor" "$d")
  echo "$port" > "$d/port"
  srv_sql "$d" "SET GLOBAL $semi = OFF; CREATE DATABASE sbtest"
  log "dataset ($flavor): sysbench prepare, 8 tables of $rows rows"
  sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$d")" --mysql-user=root \
    --tables=8 --table-size="$rows" --threads=2 prepare >/dev/null
  srv_sql "$d" "FLUSH BINARY LOGS; SET GLOBAL innodb_max_dirty_pages_pct = 0"
  # Let the server write its dirty pages now, not during the measurements.
  for _ in $(seq 1 120); do
    [ "$(srv_sql "$d" "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | awk '{ print $2 }')" -lt 10 ] && break
    sleep 0.5
  done
  sync
  echo "$rows" > "$d/ready"
  log "dataset ($flavor): $(calc "$(srv_binlog_bytes "$d") / 1e6" 0) MB of binlog in $(srv_sql "$d" "SHOW BINARY LOGS" | wc -l) files"
  echo "$d"
}

# Semisync set-ups (latency.sh, ab.sh).
# sysbench oltp_insert against the server in DIR: prints "tps p50 p95 transactions".
load() { # DIR THREADS SECONDS
  sysbench oltp_insert --db-driver=mysql --mysql-socket="$(srv_sock "$1")" --mysql-user=root --tables=1 \
    --table-size=10000 --threads="$2" --time="$3" --histogram=on --percentile=95 run 2>&1 | awk '
    /transactions:/ { n = $2; gsub(/\(/, "", $3); tps = $3 }
    /95th percentile:/ { p95 = $3 }
    /Latency histogram/ { h = 1; next }
    h && /\|/ { split($0, a, "|"); v[++k] = a[1] + 0; c[k] = $NF + 0; tot += $NF; next }
    h && k && !/\|/ { h = 0 }
    END { half = tot / 2; s = 0; for (i = 1; i <= k; i++) { s += c[i]; if (s >= half) { p50 = v[i]; break } }
          printf "%s %s %s %s\n", tps, p50, p95, n }'
}
semi_var() { if [ "$1" = mysql ]; then echo "rpl_semi_sync_source_$2"; else echo "rpl_semi_sync_master_$2"; fi; }
semi_stat() { srv_sql "$1" "SHOW GLOBAL STATUS LIKE '$(semi_var "$2" "$3")'" | awk '{ print $2 }'; }
wait_clients() { # DIR FLAVOR N
  for _ in $(seq 1 300); do [ "$(semi_stat "$1" "$2" clients)" = "$3" ] && return 0; sleep 0.1; done
  die "$(semi_var "$2" clients) did not reach $3"
}
# Each acker catches up on what the primary wrote while it was stopped before it is
# measured, so neither pays for a backlog (a replica applying it competes for the CPUs).
binlogd_caught_up() { # PRIMARY FLAVOR LISTEN
  local st="SHOW MASTER STATUS" want
  [ "$2" = mysql ] && st="SHOW BINARY LOG STATUS"
  want=$(srv_sql "$1" "$st" | awk '{ print $1, $2 }')
  for _ in $(seq 1 1200); do
    [ "$(binlogd_pos "$3" 2>/dev/null)" = "$want" ] && return 0
    sleep 0.1
  done
  die "binlogd did not reach the primary's $want"
}
# binlogd's fsyncs, their total µs, its ACKs and their total µs (from the event that
# asked to the ACK sent), for the means over one run.
ack_counters() { # LISTEN
  binlogd_sql "$1" "SHOW GLOBAL STATUS LIKE 'Binlogd_%'" | awk '
    { v[$1] = $2 } END { print v["Binlogd_fsyncs"], v["Binlogd_fsync_time_us"], v["Binlogd_acks_sent"], v["Binlogd_ack_time_us"] }'
}
