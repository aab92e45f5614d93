#!/usr/bin/env bash
# Build the Rust conformance testee against a generated `clutchcall` crate.
#   build.sh PKG_DIR WORK_DIR
# PKG_DIR: the generated Rust package (apirpc-compiler generate ... --target rust writes TMP/rust).
# WORK_DIR: an empty scratch directory for the testee crate and its build output.
# Prints the command that starts the testee as the last line of stdout.
set -euo pipefail
pkg=$(cd "$1" && pwd)
work=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/testee/src"
cp "$here/src/main.rs" "$work/testee/src/main.rs"
cat > "$work/testee/Cargo.toml" <<TOML
[package]
name = "clutchcall-testee"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
clutchcall = { path = "$pkg" }

[workspace]
TOML
CARGO_TARGET_DIR="$work/target" cargo build --offline --release --quiet \
    --manifest-path "$work/testee/Cargo.toml" 1>&2
echo "$work/target/release/clutchcall-testee"
