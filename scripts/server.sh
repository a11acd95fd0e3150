#!/usr/bin/env bash
#! Starts, stops and queries throwaway MariaDB 10.11 / MariaDB 11.x / MySQL 9.x servers on loopback.
#!
#!   server.sh start mariadb|mariadb11|mysql DIR PORT [SERVER_ID]   fresh server, data under DIR
#!   server.sh stop DIR                                     clean shutdown
#!   server.sh kill DIR                                     SIGKILL
#!   server.sh restart DIR                                  clean shutdown, start again
#!   server.sh sql DIR "SQL"                                run SQL as root, tab-separated
#!   server.sh sqlv DIR "SQL"                               run SQL as root, one "name: value" line per column
#!   server.sh binlogdir DIR                                host path of its binlog files
#!   server.sh tls DIR CERTDIR                              serve TLS with CERTDIR/{ca,server-cert,server-key}.pem, restart
#!   server.sh addcnf DIR LINE...                           append [mysqld] lines to its cnf (restart to apply)
#!   server.sh root DIR                                     host path of its data root
#!
#! Data directories are initialized once per cache (mysqld --initialize takes about a
#! minute) and copied for each fresh server. MySQL and MariaDB 11 run inside their sid
#! chroots, so their files live under the chroot; DIR/root points there.
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

chroot_of() { # flavor -> chroot directory, empty for the host
  case "$1" in mysql) echo "$SID_ROOT" ;; mariadb11) echo "$MARIA_ROOT" ;; *) echo "" ;; esac
}

run_client() { # DIR args...
  local d=$1 f; shift
  f=$(flavor_of "$d")
  case "$f" in
    mysql) chroot "$SID_ROOT" /usr/bin/mysql --no-defaults -uroot -S "$(inner_of "$d")/sock" "$@" ;;
    mariadb11) chroot "$MARIA_ROOT" /usr/bin/mariadb --no-defaults -uroot -S "$(inner_of "$d")/sock" "$@" ;;
    *) mariadb --no-defaults -uroot -S "$(inner_of "$d")/sock" "$@" ;;
  esac
}

write_cnf() { # flavor inner port server_id semisync(0/1)
  local f=$1 in=$2 port=$3 sid=$4 semi=$5
  cat <<CNF
[mysqld]
datadir=$in/data
tmpdir=$in/tmp
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
log_slave_updates=ON
rpl_semi_sync_master_enabled=$semi
rpl_semi_sync_master_timeout=30000
rpl_semi_sync_master_wait_no_slave=ON
CNF
  fi
}

server_cmd() { # flavor inner
  case "$1" in
    mysql) echo chroot "$SID_ROOT" /usr/sbin/mysqld --defaults-file="$2/my.cnf" ;;
    mariadb11) echo chroot "$MARIA_ROOT" /usr/sbin/mariadbd --defaults-file="$2/my.cnf" ;;
    *) echo /usr/sbin/mariadbd --defaults-file="$2/my.cnf" ;;
  esac
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
  local cr; cr=$(chroot_of "$f")
  if [ -n "$cr" ]; then t="$cr/var/tmp/binlogd-template-$f"; else t="$BINLOGD_CACHE/template-mariadb"; fi
  if [ -f "$t/.ready" ]; then echo "$t"; return; fi
  rm -rf "$t"; mkdir -p "$t/binlog" "$t/tmp"
  local in=$t
  [ -n "$cr" ] && in=/var/tmp/binlogd-template-$f
  log "initializing a $f template data directory (once per cache)"
  write_cnf "$f" "$in" 0 1 0 > "$t/my.cnf"
  if [ "$f" = mysql ]; then
    chroot "$SID_ROOT" /usr/sbin/mysqld --defaults-file="$in/my.cnf" --initialize-insecure >/dev/null 2>&1 \
      || { tail -20 "$t/error.log" >&2; die "mysqld --initialize failed"; }
  elif [ "$f" = mariadb11 ]; then
    chroot "$MARIA_ROOT" /usr/bin/mariadb-install-db --no-defaults --force --datadir="$in/data" --auth-root-authentication-method=normal \
      --skip-test-db --user=root >"$t/install.log" 2>&1 || { tail -20 "$t/install.log" >&2; die "mariadb-install-db failed"; }
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
  if ! run_client "$d" -e "SHUTDOWN" >/dev/null 2>&1 && [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$pid" ]; then
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

cmd=${1:-}; shift || true
case "$cmd" in
  start)
    f=$1 d=$2 port=$3 sid=${4:-1}
    case "$f" in mariadb|mariadb11|mysql) ;; *) die "flavor must be mariadb, mariadb11 or mysql";; esac
    mkdir -p "$d"; d=$(cd "$d" && pwd)
    t=$(template "$f")
    cr=$(chroot_of "$f")
    if [ -n "$cr" ]; then
      name="binlogd-$(basename "$d")-$$-$RANDOM"
      root="$cr/var/tmp/$name"; in="/var/tmp/$name"
    else
      root="$d/server"; in="$root"
    fi
    rm -rf "$root"; mkdir -p "$root"
    # A private tmpdir: servers sharing /tmp have seen their temporary tables removed under them.
    cp -a "$t/data" "$root/data"; mkdir -p "$root/binlog" "$root/tmp"
    # Each MySQL server gets its own server_uuid.
    rm -f "$root/data/auto.cnf"
    echo "$f" > "$d/flavor"; echo "$root" > "$d/root"; echo "$in" > "$d/inner"; echo "$port" > "$d/port"
    write_cnf "$f" "$in" "$port" "$sid" 1 > "$root/my.cnf"
    start_server "$d"
    ;;
  stop) stop_server "$1" ;;
  kill) pid=$(cat "$(root_of "$1")/mysqld.pid" 2>/dev/null || true); if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi ;;
  restart) stop_server "$1"; start_server "$1" ;;
  sql) d=$1; shift; run_client "$d" -N -B --max-allowed-packet=256M -e "$*" ;;
  sqlv) d=$1; shift; run_client "$d" -E -e "$*" ;;
  binlogdir) echo "$(root_of "$1")/binlog" ;;
  root) root_of "$1" ;;
  tls)
    d=$1 certs=$2 root=$(root_of "$1") in=$(inner_of "$1")
    mkdir -p "$root/tls"; cp "$certs/ca.pem" "$certs/server-cert.pem" "$certs/server-key.pem" "$root/tls/"
    printf 'ssl_ca=%s/tls/ca.pem\nssl_cert=%s/tls/server-cert.pem\nssl_key=%s/tls/server-key.pem\n' "$in" "$in" "$in" >> "$root/my.cnf"
    stop_server "$d"; start_server "$d"
    ;;
  addcnf) d=$1; shift; printf '%s\n' "$@" >> "$(root_of "$d")/my.cnf" ;;
  destroy) d=$1; stop_server "$d" 2>/dev/null || true; r=$(root_of "$d" 2>/dev/null || true); case "$r" in */var/tmp/binlogd-*|*/server) rm -rf "$r";; esac ;;
  *) sed -n '1d; s/^#! \{0,1\}//p' "$0"; exit 2 ;;
esac
