#!/usr/bin/env bash
# Python needs no build: check that the generated package imports, then print the command.
# Usage: build.sh PKG_DIR WORK_DIR (see ../../PROTOCOL.md).
set -euo pipefail
pkg_dir="$1"
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
PYTHONPATH="$pkg_dir" "$python" -c "import clutchcall.messages, clutchcall.wire" >&2
echo "$python $here/testee.py $pkg_dir"
