#!/usr/bin/env bash
# build.sh PKG_DIR WORK_DIR [SDK_BUILD_DIR]: builds the C++ testee against the generated package
# PKG_DIR (apirpc-compiler generate ... --target cpp writes it to TMP/cpp) in WORK_DIR. With
# SDK_BUILD_DIR (a build tree of PKG_DIR as top-level project) the already-built library is
# linked instead of compiling the package again. The last line of stdout is the command that
# starts the testee.
set -euo pipefail
pkg=$(cd "$1" && pwd)
work=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
sdk=()
if [ -n "${3:-}" ]; then
  sdk=(-DCLUTCHCALL_SDK_BUILD="$(cd "$3" && pwd)")
fi
cmake -S "$here" -B "$work/build" "${gen[@]}" -DCLUTCHCALL_PKG="$pkg" "${sdk[@]}" >&2
cmake --build "$work/build" >&2
echo "$work/build/clutchcall_testee"
