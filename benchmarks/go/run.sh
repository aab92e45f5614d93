#!/usr/bin/env bash
# Build and run the Go codec benchmark: the generated SDK next to google.golang.org/protobuf.
# Generates the Go SDK and the .proto into a temp dir, installs protoc-gen-go from the Go
# module proxy (into the temp dir), compiles the .proto with protoc and runs one program.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target go --target proto >&2
mkdir -p "$work/bench/pb" "$work/bin"
cp "$here/main.go" "$work/bench/main.go"
GOBIN="$work/bin" go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6 >&2
proto_file="$(cd "$work/gen/proto" && ls *.proto | head -1)"
PATH="$work/bin:$PATH" protoc -I "$work/gen/proto" --go_out="$work/bench/pb" --go_opt=paths=source_relative \
  --go_opt="M$proto_file=clutchcall-bench/pb" "$proto_file"
cat > "$work/bench/go.mod" <<MOD
module clutchcall-bench

go 1.21

require github.com/clutchcall/clutchcall-go v0.0.0

replace github.com/clutchcall/clutchcall-go => $work/gen/go
MOD
cd "$work/bench"
GOWORK=off go get google.golang.org/protobuf@v1.36.6 >&2
GOWORK=off go mod tidy >&2
GOWORK=off go run . "$root/tests/vectors"
