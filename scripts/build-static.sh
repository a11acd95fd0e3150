#!/usr/bin/env bash
#! Builds the static x86_64-unknown-linux-musl binary and checks that it is static.
#! Arguments go to cargo build (the benchmarks add `--example bench_client`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
target=x86_64-unknown-linux-musl
rustup target list --installed 2>/dev/null | grep -q "$target" || rustup target add "$target"
# Non-PIE, so the binary is a plain static executable ("statically linked").
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static"
cargo build --release --locked --target "$target" --bins "$@"
bin="target/$target/release/binlogd"
desc=$(file -L "$bin")
echo "$desc"
case "$desc" in
  *"statically linked"*) ;;
  *) echo "error: $bin is not statically linked" >&2; exit 1 ;;
esac
# Stripped by the release profile (strip = "symbols").
echo "$bin: $(stat -c %s "$bin") bytes"
