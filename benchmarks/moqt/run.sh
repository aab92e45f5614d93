#!/usr/bin/env bash
# Builds and runs the MoQT / Call benchmark (Release, -O2): generates the C++ package and the
# .proto into a temp dir, compiles the .proto with protoc --cpp_out (Debian libprotobuf-dev),
# writes the realistic Call (the values bench_python_codec.py uses) and runs both codecs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d)}
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target cpp >&2
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target proto >&2
proto=$(find "$work/gen/proto" -name '*.proto' | head -1)
mkdir -p "$work/pb"
protoc -I "$(dirname "$proto")" --cpp_out="$work/pb" "$proto"
( cd "$root" && python3 - "$work/call.bin" <<'PY'
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("mv", Path("tests/vectors/make_dto_vectors.py"))
mv = importlib.util.module_from_spec(spec); spec.loader.exec_module(mv)
upb, _ = mv.load_message_classes()
Path(sys.argv[1]).write_bytes(mv.realistic_call(upb).SerializeToString(deterministic=True))
PY
)
cmake -S "$root/benchmarks/moqt" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCLUTCHCALL_PKG="$work/gen/cpp" -DPROTO_OUT="$work/pb" >&2
cmake --build "$work/build" >&2
"$work/build/bench_moqt" "$work/call.bin"
