#!/usr/bin/env bash
# Build the Go conformance testee against a generated Go package.
#   bash build.sh PKG_DIR WORK_DIR
# PKG_DIR: the generated Go module (apirpc-compiler generate ... --target go writes TMP/go);
# WORK_DIR: an empty scratch directory. The last line of stdout is the command to run.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: build.sh PKG_DIR WORK_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$(cd "$1" && pwd)"
work="$(mkdir -p "$2" && cd "$2" && pwd)"
mkdir -p "$work/src"
cp "$here/main.go" "$work/src/main.go"
cat > "$work/src/go.mod" <<MOD
module clutchcall-testee

go 1.21

require github.com/clutchcall/clutchcall-go v0.0.0

replace github.com/clutchcall/clutchcall-go => $pkg
MOD
(cd "$work/src" && GOWORK=off GOFLAGS=-mod=mod go build -o "$work/clutchcall-testee" .) >&2
echo "$work/clutchcall-testee"
