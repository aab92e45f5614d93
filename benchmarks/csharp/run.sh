#!/usr/bin/env bash
# Builds and runs the C# codec benchmark: generates the csharp package into a temp dir,
# compiles it and Bench.cs with Mono's mcs (optimized) and runs it under mono.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
apirpc-compiler generate "$root/api/clutchcall.json" --out "$tmp/gen" --target csharp >&2
mcs -nologo -optimize+ -r:System.Numerics -target:library -out:"$tmp/ClutchCall.Sdk.dll" -recurse:"$tmp/gen/csharp/src/*.cs"
mcs -nologo -optimize+ -out:"$tmp/Bench.exe" -r:"$tmp/ClutchCall.Sdk.dll" "$here/Bench.cs"
mono --optimize=all "$tmp/Bench.exe"
