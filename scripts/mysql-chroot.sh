#!/usr/bin/env bash
#! Builds (once) the Debian sid chroots the tests run newer servers in, cached outside
#! the checkout: $SID_ROOT with MySQL 9.x, $MARIA_ROOT with MariaDB 11.x. Their server
#! packages conflict, so each has its own chroot, both copied from one debootstrap.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

base=$BINLOGD_CACHE/sid-base
mkdir -p "$BINLOGD_CACHE"

make_base() {
  [ -x "$base/usr/bin/apt-get" ] && [ -f "$base/.binlogd-base" ] && return 0
  log "debootstrap sid into $base (about a minute)"
  rm -rf "$base"
  debootstrap --variant=minbase sid "$base" http://deb.debian.org/debian >"$BINLOGD_CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$BINLOGD_CACHE/debootstrap.log"; die "debootstrap failed"; }
  # Keep services from starting inside the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$base/usr/sbin/policy-rc.d"
  chmod +x "$base/usr/sbin/policy-rc.d"
  touch "$base/.binlogd-base"
}

build() { # root check-binary packages...
  local root=$1 bin=$2; shift 2
  if [ -x "$root$bin" ] && [ -f "$root/.binlogd-ready" ]; then return 0; fi
  make_base
  log "copying the sid base to $root"
  rm -rf "$root"; cp -a "$base" "$root"; rm -f "$root/.binlogd-base"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  log "apt-get install $* in $root"
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false update -qq
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >"$BINLOGD_CACHE/apt-$(basename "$root").log" 2>&1 \
    || { tail -20 "$BINLOGD_CACHE/apt-$(basename "$root").log"; die "apt-get in $root failed"; }
  chroot "$root" "$bin" --version
  touch "$root/.binlogd-ready"
}

build "$SID_ROOT" /usr/sbin/mysqld mysql-server-core mysql-client-core
build "$MARIA_ROOT" /usr/sbin/mariadbd mariadb-server-core mariadb-client-core

# MySQL loads components (the keyring that binlog_encryption needs) from manifests: the
# global ones here defer to each data directory's own, so a test's server loads the
# keyring when its directory names it, and every other server loads nothing.
[ -f "$SID_ROOT/usr/sbin/mysqld.my" ] || printf '{"read_local_manifest": true}\n' > "$SID_ROOT/usr/sbin/mysqld.my"
cfg=$SID_ROOT/usr/lib/mysql/plugin/component_keyring_file.cnf
[ -f "$cfg" ] || printf '{"read_local_config": true}\n' > "$cfg"
