#!/usr/bin/env bash
#! Catching up from the archive: a reader (mariadb-binlog --raw) pulls the whole catch-up
#! data set from binlogd, once while binlogd still stores the files, and once after it
#! purged them, every one then brought back by restore_command from an archive directory
#! read with cp (so the figure is binlogd's, not an object store's). Reports MB/s for
#! both, binlogd's peak RSS and what the restore cache holds at the end.
#! Target: the archive's rate ≥ 0.8× the local one, each next file restored while the
#! current one is read.
. "$(dirname "$0")/lib.sh"
[ "${BENCH_BUILT:-0}" = 1 ] || bench_build
d=$(dataset mariadb); total=$(srv_binlog_bytes "$d"); first=$(srv_first_binlog "$d")
b="$WORK/restore-binlogd"; arch="$WORK/restore-archive"; lport=$(free_port)
rm -rf "$arch"; mkdir -p "$arch"
rm -rf "$b"
binlogd_start "$b" "$(cat "$d/port")" "$lport" "archive_command = cp %p $arch/%f" \
  "restore_command = cp $arch/%f %p" "restore_cache_size = 1G"
wait_stored "$b" "$total" "$(now)" >/dev/null
# Every closed file archived (the active one never is).
files=$(binlogd_sql "$lport" "SHOW BINARY LOGS" | awk '{ print $1 }')
closed=$(echo "$files" | head -n -1)
for f in $closed; do
  for _ in $(seq 1 600); do [ -f "$arch/$f" ] && grep -q "archived $f" "$b/binlogd.log" && break; sleep 0.1; done
done
out=/dev/shm/binlogd-bench-restore; rm -rf "$out"
rounds=3; [ "$BENCH_QUICK" = 1 ] && rounds=1
best_local=""; best_arch=""
for r in $(seq 1 "$rounds"); do
  sync; rm -rf "$out"
  read -r w _ _ < <(raw_read "$lport" "$first" "$out/local")
  log "restore round $r: from local files in ${w}s"
  [ -z "$best_local" ] || [ "$(calc "$w < $best_local" 0)" = 1 ] && best_local=$w
done
last=$(echo "$files" | tail -1)
binlogd_sql "$lport" "PURGE BINARY LOGS TO '$last'" >/dev/null
# With restore_command the archived files are listed too, Stored = archive.
[ "$(binlogd_sql "$lport" "SHOW BINARY LOGS" | awk '$NF == "local"' | wc -l)" = 1 ] || die "binlogd did not purge the archived files"
for r in $(seq 1 "$rounds"); do
  # An empty cache: every file comes back from the archive.
  rm -rf "$b/binlogs/restored" "$out"; sync
  read -r w _ _ < <(raw_read "$lport" "$first" "$out/archive")
  log "restore round $r: from the archive in ${w}s"
  [ -z "$best_arch" ] || [ "$(calc "$w < $best_arch" 0)" = 1 ] && best_arch=$w
done
for f in $closed; do cmp -s "$arch/$f" "$out/archive/$f" || die "$f read back from the archive differs"; done
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$(binlogd_pid "$b")/status")
cache=$(du -sb "$b/binlogs/restored" | awk '{ print $1 }')
binlogd_stop "$b"; rm -rf "$b" "$arch" "$out"
mb=$(calc "$total / 1e6" 0)
lrate=$(calc "$total / 1e6 / $best_local" 1); arate=$(calc "$total / 1e6 / $best_arch" 1)
ratio=$(calc "$arate / $lrate")
{
  echo "## Catching up from the archive: $mb MB"
  echo
  echo "mariadb-binlog --raw reads the whole data set from binlogd, first from its stored files,"
  echo "then after binlogd purged them (\`restore_command = cp ...\`, an empty restore cache each"
  echo "round), best of $rounds round(s) each. Every file read back is compared with the archive's."
  echo
  echo "| from | MB/s | binlogd peak RSS | restore cache at the end |"
  echo "|---|---|---|---|"
  echo "| local files | $lrate | | |"
  echo "| archive (restore_command) | $arate | $(calc "$rss / 1024" 1) MiB | $(calc "$cache / 1e6" 0) MB |"
  echo
  echo "Target: the archive's rate ≥ 0.8× the local one ($(verdict "$ratio" ">=" 0.8), $ratio ×)."
} > "$BENCH_OUT/restore.md"
cat "$BENCH_OUT/restore.md"
