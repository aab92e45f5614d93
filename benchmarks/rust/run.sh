#!/usr/bin/env bash
# Build and run the Rust codec benchmark: the generated crate against prost (from crates.io;
# prost-build runs the machine's protoc). Everything is generated into a scratch directory, so
# the SDK itself keeps no dependencies.
#   benchmarks/rust/run.sh [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-"${TMPDIR:-/tmp}/clutchcall-rust-bench"}
mkdir -p "$work"
work=$(cd "$work" && pwd)

rm -rf "$work/gen"
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target rust --target proto >/dev/null
proto=$(find "$work/gen/proto" -name '*.proto' | head -n 1)

mkdir -p "$work/bench/src"
cp "$here/src/main.rs" "$work/bench/src/main.rs"
cp "$here/build.rs" "$work/bench/build.rs"
cat > "$work/bench/Cargo.toml" <<TOML
[package]
name = "clutchcall-bench"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
clutchcall = { path = "$work/gen/rust" }
prost = "0.13"

[build-dependencies]
prost-build = "0.13"

[profile.release]
codegen-units = 1
lto = true

[workspace]
TOML

export CLUTCHCALL_PROTO="$proto" CLUTCHCALL_VECTORS="$root/tests/vectors"
CARGO_TARGET_DIR="$work/target" cargo build --release --quiet --manifest-path "$work/bench/Cargo.toml"
echo "rustc: $(rustc --version); prost 0.13; $(protoc --version); $(uname -m)"
"$work/target/release/clutchcall-bench"
