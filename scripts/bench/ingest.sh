#!/usr/bin/env bash
#! Ingest: catching up on a fixed binlog (sysbench prepare, then FLUSH BINARY LOGS), from a
#! MariaDB 10.11 primary and from a MySQL 9 primary. binlogd (CRC32 checked, sync_binlog=1)
#! against the server's own tool (mariadb-binlog --raw, mysqlbinlog --raw) pulling the same
#! files from the same primary. Reports MB/s and CPU seconds per GB for both.
. "$(dirname "$0")/lib.sh"
[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
rounds=2; [ "$BENCH_QUICK" = 1 ] && rounds=1
# What the disk itself makes durable per second: large direct writes, then fdatasync.
disk=$(dd if=/dev/zero of="$WORK/dd.tmp" bs=4M count=128 oflag=direct conv=fdatasync 2>&1 \
  | awk '/copied/ { print $(NF-1) * ($NF == "GB/s" ? 1000 : 1) }'); rm -f "$WORK/dd.tmp"

# One primary's section: FLAVOR -> Markdown on stdout.
measure() {
  local flavor=$1 d port total first tool name out
  d=$(dataset "$flavor"); port=$(cat "$d/port")
  total=$(srv_binlog_bytes "$d"); first=$(srv_first_binlog "$d")
  if [ "$flavor" = mysql ]; then
    tool=mysqlbinlog; name="MySQL $(chroot "$SID_ROOT" /usr/sbin/mysqld --version | awk '{ print $3 }' | cut -d- -f1)"
    out="$SID_ROOT/var/tmp/binlogd-bench-ingest-tool"
  else
    tool=mariadb-binlog; name="MariaDB $(mariadbd --version | awk '{ print $3 }' | cut -d- -f1)"
    out="$WORK/ingest-tool"
  fi
  cat "$(cat "$d/root")"/binlog/mysql-bin.[0-9]* > /dev/null   # same page cache for both sides
  local best_tool="" best_b="" r wall user sys cpu t1 durable b t0
  # An unmeasured run of the tool first: the first writer into memory freed a few seconds
  # earlier pays for it (serve.sh says why), and the tool goes first in each round.
  rm -rf "$out"; raw_read "$port" "$first" "$out" "$flavor" >/dev/null; rm -rf "$out"
  for r in $(seq 1 "$rounds"); do
    sync
    read -r wall user sys < <(raw_read "$port" "$first" "$out" "$flavor")
    cpu=$(calc "$user + $sys" 3)
    # The same bytes made durable afterwards, as binlogd makes them while it runs.
    t1=$(now); sync "$out"/*; durable=$(calc "$wall + $(now) - $t1" 3)
    log "ingest ($flavor) round $r: $tool ${wall}s (durable after ${durable}s) cpu ${cpu}s"
    if [ -z "$best_tool" ] || [ "$(calc "$wall < ${best_tool%% *}" 0)" = 1 ]; then best_tool="$wall $cpu $durable"; fi
    rm -rf "$out"
    b="$WORK/ingest-binlogd"; rm -rf "$b"
    sync
    t0=$(now)
    binlogd_start "$b" "$port" "$(free_port)"
    wall=$(wait_stored "$b" "$total" "$t0")
    cpu=$(cpu_s "$(binlogd_pid "$b")")
    binlogd_stop "$b"
    log "ingest ($flavor) round $r: binlogd ${wall}s cpu ${cpu}s"
    if [ -z "$best_b" ] || [ "$(calc "$wall < ${best_b%% *}" 0)" = 1 ]; then best_b="$wall $cpu"; fi
    rm -rf "$b"
  done
  local tw tc td bw bc mb gb t_mbs b_mbs t_cpu b_cpu
  read -r tw tc td <<<"$best_tool"; read -r bw bc <<<"$best_b"
  mb=$(calc "$total / 1e6" 1); gb=$(calc "$total / 1e9" 4)
  # MySQL: the same over the compressed protocol, binlogd asking for it with
  # master_compression_algorithms, the tool with --compression-algorithms.
  local zrows="" alg zt zb tw2 tc2 bw2 bc2
  if [ "$flavor" = mysql ]; then
    for alg in zlib zstd; do
      zt=""; zb=""
      for r in $(seq 1 "$rounds"); do
        rm -rf "$out"
        read -r wall user sys < <(RAW_EXTRA="--compression-algorithms=$alg" raw_read "$port" "$first" "$out" "$flavor")
        rm -rf "$out"
        log "ingest ($alg) round $r: $tool ${wall}s cpu $(calc "$user + $sys" 3)s"
        if [ -z "$zt" ] || [ "$(calc "$wall < ${zt%% *}" 0)" = 1 ]; then zt="$wall $(calc "$user + $sys" 3)"; fi
        b="$WORK/ingest-binlogd"; rm -rf "$b"; sync
        t0=$(now)
        binlogd_start "$b" "$port" "$(free_port)" "master_compression_algorithms = $alg"
        wall=$(wait_stored "$b" "$total" "$t0"); cpu=$(cpu_s "$(binlogd_pid "$b")")
        binlogd_stop "$b"; rm -rf "$b"
        log "ingest ($alg) round $r: binlogd ${wall}s cpu ${cpu}s"
        if [ -z "$zb" ] || [ "$(calc "$wall < ${zb%% *}" 0)" = 1 ]; then zb="$wall $cpu"; fi
      done
      read -r tw2 tc2 <<<"$zt"; read -r bw2 bc2 <<<"$zb"
      zrows+="| $alg | $(calc "$mb / $bw2" 1) | $(calc "$mb / $tw2" 1) | $(calc "$tw2 / $bw2") × | $(calc "$bc2 / $gb" 2) | $(calc "$tc2 / $gb" 2) |"$'\n'
    done
  fi
  t_mbs=$(calc "$mb / $tw" 1); b_mbs=$(calc "$mb / $bw" 1)
  t_cpu=$(calc "$tc / $gb" 2); b_cpu=$(calc "$bc / $gb" 2)
  cat <<MD
### $name primary: $mb MB in $(srv_sql "$d" "SHOW BINARY LOGS" | wc -l) files, against \`$tool --raw\`

| | binlogd | $tool --raw | ratio |
|---|---|---|---|
| MB/s | $b_mbs | $t_mbs | $(calc "$b_mbs / $t_mbs") × |
| CPU s/GB | $b_cpu | $t_cpu | $(calc "$b_cpu / $t_cpu") × |
| MB/s until the bytes are durable | $b_mbs | $(calc "$mb / $td" 1) (then \`sync\`) | $(calc "$b_mbs / ($mb / $td)") × |
| share of the disk's durable write rate ($disk MB/s) | $(calc "100 * $b_mbs / $disk" 0) % | $(calc "100 * $mb / $td / $disk" 0) % | |

Targets: MB/s ≥ 1.0× ($(verdict "$b_mbs / $t_mbs" ">=" 1.0)), CPU s/GB ≤ 1.0× ($(verdict "$b_cpu / $t_cpu" "<=" 1.0)).
MD
  [ -z "$zrows" ] || cat <<MD

Over the compressed protocol (binlogd's \`master_compression_algorithms\`, the tool's
\`--compression-algorithms\`), best of $rounds: the primary compresses (zlib at level 6,
zstd at 3), and its compressing is what both wait for; the CPU is each reader's own,
uncompressing included.

| algorithm | binlogd MB/s | $tool MB/s | ratio | binlogd CPU s/GB | $tool CPU s/GB |
|---|---|---|---|---|---|
$zrows
MD
  echo
}

maria=$(measure mariadb)
mysql=$(measure mysql)
cat > "$BENCH_OUT/ingest.md" <<MD
## Ingest: catching up on a fixed binlog

Each primary's binlog comes from \`sysbench oltp_insert prepare\` (MariaDB's holds each
INSERT's text as well, in its annotate events). binlogd verifies every CRC32 and fsyncs at
each transaction end (\`sync_binlog = 1\`); the server's own tool, \`--read-from-remote-server
--raw\`, writes the same files without fsync. Best of $rounds, after an unmeasured run of the
tool, with the page cache warm on the primary for both.

$maria

$mysql

What limits it: binlogd's bytes are on disk when it reports them stored, so its rate is
bounded by what the disk makes durable: $disk MB/s here for 4 MiB direct writes and an
fdatasync (\`dd oflag=direct conv=fdatasync\`, last rows; measured once per run, so a share
over 100 % means the disk was faster while binlogd wrote than while \`dd\` did). The tools' first two figures
are the page cache's: their bytes reach the disk later, on the kernel's flusher threads,
whose work is not charged to them. The third rows compare the time until the same bytes
are on disk. binlogd writes the whole 4 KiB blocks of a catch-up with O_DIRECT from an
aligned buffer (the copy into the page cache was half of its CPU time), and while catching
up it fsyncs every 64 MiB and when the stream pauses rather than after each batch.
MD
cat "$BENCH_OUT/ingest.md"
