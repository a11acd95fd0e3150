#!/usr/bin/env bash
#! Restart and lookup: time from starting binlogd after kill -9 to the first event a
#! client asks for, with about 67 MB and with over 5 GB stored (closed files are hard
#! links of real files under new names); and a GTID auto-position connect with 1000
#! files stored. The primary is unreachable throughout: binlogd serves what it has.
. "$(dirname "$0")/lib.sh"
[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
d=$(dataset mariadb)
src="$WORK/restart-src"
binlogd_mirror "$src" "$d" "$(free_port)"
binlogd_stop "$src"
mapfile -t files < <(cat "$src"/binlogs/*.index)
closed=("${files[@]:0:${#files[@]}-1}")
dead=$(free_port)   # nothing listens there: the primary is down
# A port for binlogd to serve on, never the dead primary's (binlogd would find itself
# there as its primary, and stop).
serve_port() { local p; p=$(free_port); while [ "$p" = "$dead" ]; do p=$(free_port); done; echo "$p"; }
# Waits until binlogd in DIR, serving on PORT, sends the first event of FILE.
await_serving() { # DIR PORT FILE
  until "$CLIENT" first-event 127.0.0.1 "$2" repl replpass file "$3" 4 >/dev/null 2>&1; do
    kill -0 "$(binlogd_pid "$1")" 2>/dev/null || die "binlogd in $1 stopped: $(tail -2 "$1/binlogd.log")"
    sleep 0.01
  done
}

# A binlog_dir with N closed files (links of the real closed ones, renamed in sequence)
# followed by the real last file.
make_dir() { # DIR BYTES
  local dir=$1/binlogs i=0 name got=0 from
  rm -rf "$1"; mkdir -p "$dir"
  : > "$dir/mysql-bin.index"
  while [ "$i" -eq 0 ] || [ "$got" -lt "$2" ]; do
    i=$((i + 1))
    name=$(printf 'mysql-bin.%06d' "$i")
    from="$src/binlogs/${closed[$(( (i - 1) % ${#closed[@]} ))]}"
    ln "$from" "$dir/$name"
    got=$((got + $(stat -c %s "$from")))
    echo "$name" >> "$dir/mysql-bin.index"
  done
  name=$(printf 'mysql-bin.%06d' $((i + 1)))
  cp "$src/binlogs/${files[-1]}" "$dir/$name"
  echo "$name" >> "$dir/mysql-bin.index"
  echo "$name"
}

# Starts binlogd on DIR, kills it with -9 once it serves, starts it again and prints the
# milliseconds from that start to the first event of LAST. The client starts binlogd
# itself and retries its dump every 100 µs: a shell loop starting a client for each try
# (about a millisecond each) timed its own steps as much as binlogd's start.
restart_ms() { # DIR LAST
  local lport out
  lport=$(serve_port)
  binlogd_start "$1" "$dead" "$lport"
  await_serving "$1" "$lport" "$2"
  kill -9 "$(binlogd_pid "$1")"; wait_gone "$(binlogd_pid "$1")"
  out=$("$CLIENT" restart "$BINLOGD" "$1/binlogd.cnf" "$1/stderr" 127.0.0.1 "$lport" repl replpass file "$2" 4) || {
    echo "${out%% *}" >> "$WORK/started.pids"; die "binlogd on $1 did not serve $2"
  }
  echo "${out%% *}" > "$1/pid"; echo "${out%% *}" >> "$WORK/started.pids"
  echo "${out#* }"
  binlogd_stop "$1"
}
small="$WORK/restart-small"; big="$WORK/restart-big"
last_small=$(make_dir "$small" 1)
last_big=$(make_dir "$big" 5000000000)
n_big=$(( $(wc -l < "$big/binlogs/mysql-bin.index") - 1 ))
small_mb=$(calc "$(du -sbL "$small/binlogs" | cut -f1) / 1e6" 0)
big_gb=$(calc "$(find "$big/binlogs" -name 'mysql-bin.[0-9]*' -printf '%s\n' | awk '{ s += $1 } END { print s }') / 1e9" 2)
rounds=9; [ "$BENCH_QUICK" = 1 ] && rounds=5
best() { sort -n | head -1; }
# The two sizes take turns, so a slower spell of the machine falls on both.
samples=$(for _ in $(seq 1 "$rounds"); do
  echo "small $(restart_ms "$small" "$last_small")"; echo "big $(restart_ms "$big" "$last_big")"
done)
ms_small=$(awk '$1 == "small" { print $2 }' <<<"$samples" | best)
ms_big=$(awk '$1 == "big" { print $2 }' <<<"$samples" | best)
log "restart samples (ms): $(tr '\n' ' ' <<<"$samples")"
log "restart: ${ms_small} ms with $small_mb MB, ${ms_big} ms with $big_gb GB"

# 1000 files holding MySQL GTIDs: each a link of the golden MySQL 9.7 file.
g="$WORK/restart-gtid"; rm -rf "$g"; mkdir -p "$g/binlogs"
golden="$repo/tests/data/mysql-9.7.4.000001"
for i in $(seq 1 1000); do
  name=$(printf 'mysql-bin.%06d' "$i"); ln "$golden" "$g/binlogs/$name"; echo "$name" >> "$g/binlogs/mysql-bin.index"
done
lport=$(serve_port)
binlogd_start "$g" "$dead" "$lport"
await_serving "$g" "$lport" mysql-bin.000001
# The first GTID connect may build the GTID index; the later ones read it.
cold=$("$CLIENT" first-event 127.0.0.1 "$lport" repl replpass mysql-gtid "")
warm=$(for _ in 1 2 3 4 5; do "$CLIENT" first-event 127.0.0.1 "$lport" repl replpass mysql-gtid ""; done | best)
binlogd_stop "$g"
# After a restart, the index comes from binlogd.gtid_index.
binlogd_start "$g" "$dead" "$lport"
await_serving "$g" "$lport" mysql-bin.000001
after=$("$CLIENT" first-event 127.0.0.1 "$lport" repl replpass mysql-gtid "")
binlogd_stop "$g"
log "GTID connect with 1000 files: first ${cold} ms, then ${warm} ms, after a restart ${after} ms"
rm -rf "$small" "$big" "$g" "$src"

cat > "$BENCH_OUT/restart.md" <<MD
## Restart and lookup

Time from starting binlogd after \`kill -9\` until a client gets the first event it asked
for (the active file, by file and position), the primary unreachable, timed by a client
that starts binlogd and retries its dump every 100 µs. Recovery reads only the last
file, and the directory is listed once, so the stored total should not matter. Best
of $rounds.

| stored | ms to first event |
|---|---|
| $small_mb MB (1 closed file + the last) | $ms_small |
| $big_gb GB ($n_big closed files + the last) | $ms_big |
| ratio | $(calc "$ms_big / $ms_small") × |

Target: ratio ≤ 1.2× ($(verdict "$ms_big / $ms_small" "<=" 1.2)).

GTID auto-position (\`COM_BINLOG_DUMP_GTID\`) with 1000 files stored, connect to first
event: $cold ms on the first connect (the GTID index is built from the files' headers),
$warm ms afterwards, $after ms on the first connect after a restart (index read from
\`binlogd.gtid_index\`). Target: < 50 ms ($(verdict "$cold" "<" 50)).
MD
cat "$BENCH_OUT/restart.md"
