#!/usr/bin/env bash
# Builds the C# conformance testee against a generated package (tests/conformance/PROTOCOL.md):
#   bash build.sh PKG_DIR WORK_DIR
# PKG_DIR is the generated csharp package (apirpc-compiler generate ... --target csharp writes
# TMP/csharp); WORK_DIR an empty scratch directory. Needs Mono's mcs. The last stdout line is
# the command that starts the testee.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: build.sh PKG_DIR WORK_DIR" >&2
    exit 2
fi
pkg=$(cd "$1" && pwd)
work=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
mcs -nologo -warnaserror -warn:4 -langversion:7 -optimize+ -r:System.Numerics -target:library \
    -out:"$work/ClutchCall.Sdk.dll" -recurse:"$pkg/src/*.cs" >&2
mcs -nologo -warnaserror -warn:4 -langversion:7 -optimize+ \
    -out:"$work/Testee.exe" -r:"$work/ClutchCall.Sdk.dll" "$here/Testee.cs" >&2
echo "mono $work/Testee.exe"
