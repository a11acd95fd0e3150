#!/usr/bin/env bash
#! Shared shell helpers for binlogd's scripts (sourced, not run).
BINLOGD_CACHE=${BINLOGD_CACHE:-/var/cache/binlogd-test}
SID_ROOT=${SID_ROOT:-$BINLOGD_CACHE/sid-root}
MARIA_ROOT=${MARIA_ROOT:-$BINLOGD_CACHE/sid-mariadb}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
