#!/bin/sh
# Build and run the TypeScript codec benchmark (generated SDK vs protobufjs) in a temp dir.
#   benchmarks/typescript/run.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target typescript --target proto >&2
(cd "$work/gen/typescript" && npm install --no-audit --no-fund >&2 && npm run build >&2)
mkdir -p "$work/bench/node_modules/@clutchcall"
cp "$here/bench.ts" "$here/package.json" "$here/tsconfig.json" "$work/bench/"
(cd "$work/bench" && npm install --no-audit --no-fund >&2)
ln -sfn "$work/gen/typescript" "$work/bench/node_modules/@clutchcall/sdk"
(cd "$work/bench" && npx --no-install tsc -p tsconfig.json >&2)
node "$work/bench/dist/bench.js" "$root/tests/vectors" "$work/gen/proto/clutchcall.proto"
