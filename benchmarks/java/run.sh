#!/bin/sh
# Build and run the Java codec benchmark: the generated SDK vs protobuf-java for one Call, and
# the generated MoQT codec for a subgroup header + one object. Needs java, javac, mvn, protoc.
#   usage: benchmarks/java/run.sh [--old DIR] [--rounds N] [REPEATS]
# --old DIR: DIR is another build's Java SDK (e.g. `git archive <commit> generated/java | tar -x`
# then DIR=generated/java); the current SDK ("new") and DIR ("old") run alternately, N rounds
# (default 5) in this one session, then each case's median ns/op per build and the ratio new/old.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
old=""
rounds=5
usage() { echo "benchmarks/java/run.sh: $1 (usage: run.sh [--old DIR] [--rounds N] [REPEATS])" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --old)
      [ $# -ge 2 ] && [ -d "$2/src/main/java" ] || usage "--old needs a Java SDK directory (with src/main/java)"
      old=$(cd "$2" && pwd); shift 2 ;;
    --rounds)
      case "${2:-}" in ''|*[!0-9]*|0) usage "--rounds needs a positive integer" ;; esac
      rounds=$2; shift 2 ;;
    *) break ;;
  esac
done
repeats=${1:-7}
work=${BENCH_WORK:-$(mktemp -d)}
pbver=$(protoc --version | awk '{print $2}')   # protobuf-java must match protoc (3.21.x here)
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target java --target proto >/dev/null
mkdir -p "$work/pb"
protoc -I "$work/gen/proto" --java_out="$work/pb" "$work/gen/proto/clutchcall.proto"
mvn -q -B dependency:get -Dartifact="com.google.protobuf:protobuf-java:$pbver" >&2
jar="$HOME/.m2/repository/com/google/protobuf/protobuf-java/$pbver/protobuf-java-$pbver.jar"

# build SDK_DIR NAME: Bench against the SDK in SDK_DIR, into $work/NAME
build() {
  find "$1/src/main/java" "$work/pb" -name '*.java' > "$work/$2.sources"
  echo "$here/Bench.java" >> "$work/$2.sources"
  javac -nowarn -encoding UTF-8 --release 17 -cp "$jar" -d "$work/$2" @"$work/$2.sources"
}
bench() {
  java -Dprotobuf.version="$pbver" -cp "$work/$1:$jar" Bench "$root/tests/vectors" "$repeats"
}

build "$work/gen/java" new
if [ -z "$old" ]; then
  bench new
  exit 0
fi
build "$old" old
: > "$work/rows"
i=1
while [ "$i" -le "$rounds" ]; do
  for b in old new; do
    echo "== round $i: $b"
    bench "$b" | tee "$work/out"
    # rows: build, case, ours ns/op, ratio ours/official ("-": no peer); a case is all but 3 fields
    awk -v b="$b" 'NR > 2 { c = $1; for (k = 2; k <= NF - 3; k++) c = c " " $k; print b "\t" c "\t" $(NF - 2) "\t" $NF }' \
      "$work/out" >> "$work/rows"
  done
  i=$((i + 1))
done
echo "== medians over $rounds alternating rounds: ours ns/op, ratio new/old; ours/official of each"
printf '%-36s %10s %10s %8s %8s %8s\n' case old new new/old old/off new/off
cut -f2 "$work/rows" | awk '!seen[$0]++' | while IFS= read -r c; do
  # med BUILD COLUMN: the median of that column of this case's rows ("-" if it has no figures)
  med() { awk -F'\t' -v b="$1" -v c="$c" -v k="$2" '$1 == b && $2 == c && $k != "-" { print $k }' "$work/rows" |
    sort -g | awk '{ v[NR] = $1 } END { print NR == 0 ? "-" : (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  o=$(med old 3) n=$(med new 3)
  printf '%-36s %10.1f %10.1f %8.3f %8s %8s\n' "$c" "$o" "$n" "$(echo "$n $o" | awk '{ print $1 / $2 }')" \
    "$(med old 4)" "$(med new 4)"
done
