#!/usr/bin/env bash
#! Installs what binlogd's build and tests need on a fresh Debian bookworm machine:
#! the musl target, MariaDB 10.11 from bookworm, and a Debian sid chroot holding
#! MySQL 9.x and one holding MariaDB 11.x (neither packaged for bookworm), openssl for
#! the TLS tests, and the CDC clients, connectors and DBA tools the tests run (MariaDB
#! Connector/J and Percona Toolkit from Debian). Idempotent: a second run is fast.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

need_pkgs=()
for p in mariadb-server mariadb-client debootstrap musl-tools file sysbench openssl curl groff-base shellcheck zstd \
  libmariadb-java percona-toolkit; do
  # Installed, not only known (a removed package keeps its status until purged).
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
# MariaDB Connector/J's test runs its program with the JDK's `java`.
command -v java >/dev/null 2>&1 || need_pkgs+=(default-jre-headless)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
# Debian's package starts a system mariadbd on 3306; the tests use their own.
if command -v service >/dev/null 2>&1; then service mariadb stop >/dev/null 2>&1 || true; fi

if command -v rustup >/dev/null 2>&1; then
  rustup target list --installed | grep -q x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl
fi

# An S3-compatible endpoint (moto) and the AWS CLI, for the archive_command test.
if ! command -v moto_server >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1; then
  log "pip install moto[server] awscli"
  python3 -m pip install -q 'moto[server]' awscli
  # pyenv makes shims for new commands only when asked.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
fi

# Clients the tests run against binlogd and the primary, at the versions tested:
# python-mysql-replication and Connector/Python (PyPI), zongji, the MariaDB connector
# and mysql2 (npm).
if ! python3 -c 'import pymysqlreplication' >/dev/null 2>&1; then
  log "pip install mysql-replication==1.0.17"
  python3 -m pip install -q 'mysql-replication==1.0.17'
fi
# MySQL Connector/Python, whose pure-Python protocol sends query attributes.
if ! python3 -c 'import mysql.connector' >/dev/null 2>&1; then
  log "pip install mysql-connector-python==9.7.0"
  python3 -m pip install -q 'mysql-connector-python==9.7.0'
fi
node_dir=/var/cache/binlogd-test/node
if [ ! -d "$node_dir/node_modules/zongji" ]; then
  log "npm install zongji@0.5.1 into $node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install -q --no-audit --no-fund zongji@0.5.1 >/dev/null)
fi
# mysql2: client-side escaping, and prepared statements with numbers bound as doubles.
if [ ! -d "$node_dir/node_modules/mysql2" ]; then
  log "npm install mysql2@3.26.1 into $node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install -q --no-audit --no-fund mysql2@3.26.1 >/dev/null)
fi
# MariaDB Connector/Node.js: MariaDB's extended capabilities and prepared statements.
if [ ! -d "$node_dir/node_modules/mariadb" ]; then
  log "npm install mariadb@3.5.4 into $node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install -q --no-audit --no-fund mariadb@3.5.4 >/dev/null)
fi

"$here/mysql-chroot.sh"
