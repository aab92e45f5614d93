#!/usr/bin/env bash
# Build and run the Go codec benchmark: the generated SDK next to google.golang.org/protobuf.
# Generates the Go SDK and the .proto into a temp dir, installs protoc-gen-go from the Go
# module proxy (into the temp dir), compiles the .proto with protoc and runs one program.
#
#   run.sh [--peer DIR] [--rounds N] [-benchtime D] [-repeats K]
#
# --peer DIR: a generated/go tree of another revision (git archive REV generated/go | tar -x -C
# /tmp/peer, then --peer /tmp/peer/generated/go). The program is built against both trees and
# the two builds run alternately, N rounds each (default 5); compare.py prints every round, the
# medians and the ratio ours/peer. The other flags go to the program.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
peer="" rounds=5 flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --peer) peer="$(cd "$2" && pwd)"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) flags+=("$1"); shift ;;
  esac
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target go --target proto >&2
mkdir -p "$work/bin"
GOBIN="$work/bin" go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6 >&2
proto_file="$(cd "$work/gen/proto" && ls *.proto | head -1)"

# build SDK_DIR BINARY: the benchmark program against the Go SDK tree SDK_DIR.
build() {
  local bench="$work/bench-$(basename "$2")"
  mkdir -p "$bench/pb"
  cp "$here/main.go" "$bench/main.go"
  PATH="$work/bin:$PATH" protoc -I "$work/gen/proto" --go_out="$bench/pb" --go_opt=paths=source_relative \
    --go_opt="M$proto_file=clutchcall-bench/pb" "$proto_file"
  cat > "$bench/go.mod" <<MOD
module clutchcall-bench

go 1.21

require github.com/clutchcall/clutchcall-go v0.0.0

replace github.com/clutchcall/clutchcall-go => $1
MOD
  (cd "$bench" && GOWORK=off go get google.golang.org/protobuf@v1.36.6 >&2 && GOWORK=off go mod tidy >&2 &&
    GOWORK=off go build -o "$2" .)
}

build "$work/gen/go" "$work/bin/ours"
if [ -z "$peer" ]; then
  "$work/bin/ours" "${flags[@]}" "$root/tests/vectors"
  exit 0
fi
build "$peer" "$work/bin/peer"
python3 "$here/compare.py" --rounds "$rounds" --ours "$work/bin/ours" --peer "$work/bin/peer" \
  --vectors "$root/tests/vectors" -- "${flags[@]}"
