#!/usr/bin/env bash
#! Builds (once) a Debian sid chroot with MySQL 9.x and MariaDB 11.x server packages.
#! The chroot is cached outside the checkout, in $SID_ROOT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ -x "$SID_ROOT/usr/sbin/mysqld" ] && [ -f "$SID_ROOT/.binlogd-ready" ]; then
  exit 0
fi
mkdir -p "$BINLOGD_CACHE"
if [ ! -x "$SID_ROOT/usr/bin/apt-get" ]; then
  log "debootstrap sid into $SID_ROOT (about a minute)"
  rm -rf "$SID_ROOT"
  debootstrap --variant=minbase sid "$SID_ROOT" http://deb.debian.org/debian >"$BINLOGD_CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$BINLOGD_CACHE/debootstrap.log"; die "debootstrap failed"; }
fi
cp /etc/resolv.conf "$SID_ROOT/etc/resolv.conf" 2>/dev/null || true
# Keep services from starting inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$SID_ROOT/usr/sbin/policy-rc.d"
chmod +x "$SID_ROOT/usr/sbin/policy-rc.d"
log "apt-get install mysql-server-core mysql-client-core in the chroot"
chroot "$SID_ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false update -qq
chroot "$SID_ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends mysql-server-core mysql-client-core >"$BINLOGD_CACHE/apt-sid.log" 2>&1 \
  || { tail -20 "$BINLOGD_CACHE/apt-sid.log"; die "apt-get in the sid chroot failed"; }
chroot "$SID_ROOT" /usr/sbin/mysqld --version
touch "$SID_ROOT/.binlogd-ready"
