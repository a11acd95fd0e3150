#!/usr/bin/env bash
#! Starts, stops and queries throwaway MariaDB 10.11 / MySQL 9.x primaries on loopback.
#!
#!   server.sh start mariadb|mysql DIR PORT [SERVER_ID]   fresh server, data under DIR
#!   server.sh stop DIR                                     clean shutdown
#!   server.sh kill DIR                                     SIGKILL
#!   server.sh restart DIR                                  clean shutdown, start again
#!   server.sh sql DIR "SQL"                                run SQL as root, tab-separated
#!   server.sh sqlv DIR "SQL"                               run SQL as root, one "name: value" line per column
#!   server.sh binlogdir DIR                                host path of its binlog files
#!
#! Data directories are initialized once per cache (mysqld --initialize takes about a
#! minute) and copied for each fresh server. MySQL runs inside the sid chroot, so its
#! files live under the chroot; DIR/root points there.
#! Users: root (no password, socket only) and repl/replpass with replication grants,
#! caching_sha2_password on MySQL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

REPL_USER=repl
REPL_PASS=replpass

flavor_of() { cat "$1/flavor"; }
root_of() { cat "$1/root"; }          # data root as seen on the host
inner_of() { cat "$1/inner"; }        # data root as seen by the server (inside the chroot for MySQL)

run_client() { # DIR args...
  local d=$1; shift
  if [ "$(flavor_of "$d")" = mysql ]; then
    chroot "$SID_ROOT" /usr/bin/mysql --no-defaults -uroot -S "$(inner_of "$d")/sock" "$@"
  else
    mariadb --no-defaults -uroot -S "$(inner_of "$d")/sock" "$@"
  fi
}

write_cnf() { # flavor inner port server_id semisync(0/1)
  local f=$1 in=$2 port=$3 sid=$4 semi=$5
  cat <<CNF
[mysqld]
datadir=$in/data
socket=$in/sock
pid-file=$in/mysqld.pid
log-error=$in/error.log
port=$port
bind-address=127.0.0.1
server-id=$sid
log-bin=$in/binlog/mysql-bin
binlog_format=ROW
binlog_checksum=CRC32
max_allowed_packet=256M
max_binlog_size=64M
skip-name-resolve
user=root
innodb_buffer_pool_size=128M
CNF
  if [ "$f" = mysql ]; then
    cat <<CNF
secure-file-priv=""
mysqlx=OFF
gtid_mode=ON
enforce_gtid_consistency=ON
innodb_redo_log_capacity=100M
plugin-load-add=semisync_source.so
loose-rpl_semi_sync_source_enabled=$semi
loose-rpl_semi_sync_source_timeout=30000
loose-rpl_semi_sync_source_wait_no_replica=ON
CNF
  else
    cat <<CNF
innodb_log_file_size=48M
rpl_semi_sync_master_enabled=$semi
rpl_semi_sync_master_timeout=30000
rpl_semi_sync_master_wait_no_slave=ON
CNF
  fi
}

server_cmd() { # flavor inner
  if [ "$1" = mysql ]; then
    echo chroot "$SID_ROOT" /usr/sbin/mysqld --defaults-file="$2/my.cnf"
  else
    echo /usr/sbin/mariadbd --defaults-file="$2/my.cnf"
  fi
}

wait_ready() { # DIR
  local d=$1 i
  for i in $(seq 1 600); do
    if run_client "$d" -N -e "SELECT 1" >/dev/null 2>&1; then return 0; fi
    if [ -f "$(root_of "$d")/mysqld.pid" ] && ! kill -0 "$(cat "$(root_of "$d")/mysqld.pid" 2>/dev/null)" 2>/dev/null && [ "$i" -gt 50 ]; then break; fi
    sleep 0.2
  done
  tail -30 "$(root_of "$d")/error.log" >&2 || true
  die "server in $d did not start"
}

start_server() { # DIR
  local d=$1 f in root
  f=$(flavor_of "$d"); in=$(inner_of "$d"); root=$(root_of "$d")
  # shellcheck disable=SC2046
  nohup $(server_cmd "$f" "$in") >>"$root/stdout.log" 2>&1 &
  wait_ready "$d"
}

# A template data dir with users already created, made once per cache.
template() { # flavor -> host path of template root
  local f=$1 t
  if [ "$f" = mysql ]; then t="$SID_ROOT/var/tmp/binlogd-template-mysql"; else t="$BINLOGD_CACHE/template-mariadb"; fi
  if [ -f "$t/.ready" ]; then echo "$t"; return; fi
  rm -rf "$t"; mkdir -p "$t/binlog"
  local in=$t
  [ "$f" = mysql ] && in=/var/tmp/binlogd-template-mysql
  log "initializing a $f template data directory (once per cache)"
  write_cnf "$f" "$in" 0 1 0 > "$t/my.cnf"
  if [ "$f" = mysql ]; then
    chroot "$SID_ROOT" /usr/sbin/mysqld --defaults-file="$in/my.cnf" --initialize-insecure >/dev/null 2>&1 \
      || { tail -20 "$t/error.log" >&2; die "mysqld --initialize failed"; }
  else
    mariadb-install-db --no-defaults --datadir="$t/data" --auth-root-authentication-method=normal \
      --skip-test-db --user=root >"$t/install.log" 2>&1 || { tail -20 "$t/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  local td; td=$(mktemp -d); echo "$f" > "$td/flavor"; echo "$t" > "$td/root"; echo "$in" > "$td/inner"
  # Bootstrap run on a socket only (port 0 = no TCP), to create the users.
  sed -i 's/^port=0$/skip-networking/' "$t/my.cnf"
  start_server "$td"
  local auth=""
  [ "$f" = mysql ] && auth="WITH caching_sha2_password"
  local reset="RESET MASTER"
  [ "$f" = mysql ] && reset="RESET BINARY LOGS AND GTIDS"
  run_client "$td" -e "
    DELETE FROM mysql.user WHERE User='';
    FLUSH PRIVILEGES;
    CREATE USER '$REPL_USER'@'%' IDENTIFIED $auth BY '$REPL_PASS';
    GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$REPL_USER'@'%';
    CREATE USER '$REPL_USER'@'localhost' IDENTIFIED $auth BY '$REPL_PASS';
    GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$REPL_USER'@'localhost';
    $reset;"
  stop_server "$td"
  rm -rf "$td" "$t/binlog"/* "$t/error.log"
  touch "$t/.ready"
  echo "$t"
}

stop_server() { # DIR
  local d=$1 root pid
  root=$(root_of "$d")
  pid=$(cat "$root/mysqld.pid" 2>/dev/null || true)
  run_client "$d" -e "SHUTDOWN" >/dev/null 2>&1 || { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
  if [ -n "$pid" ]; then
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

cmd=${1:-}; shift || true
case "$cmd" in
  start)
    f=$1 d=$2 port=$3 sid=${4:-1}
    case "$f" in mariadb|mysql) ;; *) die "flavor must be mariadb or mysql";; esac
    mkdir -p "$d"; d=$(cd "$d" && pwd)
    t=$(template "$f")
    if [ "$f" = mysql ]; then
      name="binlogd-$(basename "$d")-$$-$RANDOM"
      root="$SID_ROOT/var/tmp/$name"; in="/var/tmp/$name"
    else
      root="$d/server"; in="$root"
    fi
    rm -rf "$root"; mkdir -p "$root"
    cp -a "$t/data" "$root/data"; mkdir -p "$root/binlog"
    # Each MySQL server gets its own server_uuid.
    rm -f "$root/data/auto.cnf"
    echo "$f" > "$d/flavor"; echo "$root" > "$d/root"; echo "$in" > "$d/inner"; echo "$port" > "$d/port"
    write_cnf "$f" "$in" "$port" "$sid" 1 > "$root/my.cnf"
    start_server "$d"
    ;;
  stop) stop_server "$1" ;;
  kill) pid=$(cat "$(root_of "$1")/mysqld.pid" 2>/dev/null || true); [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true ;;
  restart) stop_server "$1"; start_server "$1" ;;
  sql) d=$1; shift; run_client "$d" -N -B --max-allowed-packet=256M -e "$*" ;;
  sqlv) d=$1; shift; run_client "$d" -E -e "$*" ;;
  binlogdir) echo "$(root_of "$1")/binlog" ;;
  destroy) d=$1; stop_server "$d" 2>/dev/null || true; r=$(root_of "$d" 2>/dev/null || true); case "$r" in */var/tmp/binlogd-*|*/server) rm -rf "$r";; esac ;;
  *) sed -n 's/^#! \{0,1\}//p' "$0"; exit 2 ;;
esac
