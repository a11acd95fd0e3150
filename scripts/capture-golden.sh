#!/usr/bin/env bash
#! Captures the golden binlog files in tests/data/ from real servers (see tests/data/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. scripts/lib.sh
work=$(mktemp -d /tmp/binlogd-golden.XXXXXX)
trap 'scripts/server.sh destroy "$work/mariadb" >/dev/null 2>&1 || true; scripts/server.sh destroy "$work/mysql" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
workload="CREATE DATABASE g; CREATE TABLE g.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(32)) ENGINE=InnoDB;
INSERT INTO g.t (v) VALUES ('one'); INSERT INTO g.t (v) VALUES ('a'), ('b'), ('c');
BEGIN; INSERT INTO g.t (v) VALUES ('x'); UPDATE g.t SET v = 'y' WHERE v = 'x'; COMMIT;
ALTER TABLE g.t ADD COLUMN w INT; DELETE FROM g.t WHERE v = 'a'; FLUSH BINARY LOGS;"
for f in mariadb mysql; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  scripts/server.sh start "$f" "$work/$f" "$port" 1
  # Without a semisync replica the commits would wait; these files need none.
  if [ "$f" = mysql ]; then scripts/server.sh sql "$work/$f" "SET GLOBAL rpl_semi_sync_source_enabled = OFF";
  else scripts/server.sh sql "$work/$f" "SET GLOBAL rpl_semi_sync_master_enabled = OFF"; fi
  scripts/server.sh sql "$work/$f" "$workload"
  v=$(scripts/server.sh sql "$work/$f" "SELECT @@version" | cut -d- -f1)
  first=$(scripts/server.sh sql "$work/$f" "SHOW BINARY LOGS" | head -1 | cut -f1)
  cp "$(scripts/server.sh binlogdir "$work/$f")/$first" "tests/data/$f-$v.000001"
  log "captured tests/data/$f-$v.000001"
done
