#!/bin/sh
# Build and run the Java codec benchmark: the generated SDK vs protobuf-java for one Call, and
# the generated MoQT codec for a subgroup header + one object. Needs java, javac, mvn, protoc.
#   usage: benchmarks/java/run.sh [REPEATS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${BENCH_WORK:-$(mktemp -d)}
pbver=$(protoc --version | awk '{print $2}')   # protobuf-java must match protoc (3.21.x here)
apirpc-compiler generate "$root/api/clutchcall.json" --out "$work/gen" --target java --target proto >/dev/null
mkdir -p "$work/pb"
protoc -I "$work/gen/proto" --java_out="$work/pb" "$work/gen/proto/clutchcall.proto"
mvn -q -B dependency:get -Dartifact="com.google.protobuf:protobuf-java:$pbver" >&2
jar="$HOME/.m2/repository/com/google/protobuf/protobuf-java/$pbver/protobuf-java-$pbver.jar"
find "$work/gen/java/src/main/java" "$work/pb" -name '*.java' > "$work/sources.txt"
echo "$here/Bench.java" >> "$work/sources.txt"
javac -nowarn -encoding UTF-8 --release 17 -cp "$jar" -d "$work/classes" @"$work/sources.txt"
java -Dprotobuf.version="$pbver" -cp "$work/classes:$jar" Bench "$root/tests/vectors" "${1:-7}"
