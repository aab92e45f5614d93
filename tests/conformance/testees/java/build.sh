#!/bin/sh
# Build the Java conformance testee against a generated Java package directory (the one that
# holds pom.xml and src/). Prints the command that runs the testee.
#   usage: build.sh GENERATED_JAVA_DIR [BUILD_DIR]
set -eu
pkg=$(cd "${1:?usage: build.sh GENERATED_JAVA_DIR [BUILD_DIR]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$pkg/target/testee}
mkdir -p "$out"
find "$pkg/src/main/java" -name '*.java' > "$out/sources.txt"
echo "$here/Testee.java" >> "$out/sources.txt"
javac -nowarn -encoding UTF-8 --release 17 -d "$out/classes" @"$out/sources.txt" >&2
echo "java -Xss16m -cp $out/classes Testee"
