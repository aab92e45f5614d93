#!/bin/sh
# Build the TypeScript conformance testee against a generated package directory.
#   tests/conformance/testees/typescript/build.sh GENERATED/typescript [BUILD_DIR]
# Prints the command that runs the testee (its last line of output).
set -eu
pkg=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-"$pkg/.testee"}
if [ ! -d "$pkg/node_modules" ]; then
  (cd "$pkg" && npm install --no-audit --no-fund >&2)
fi
[ -f "$pkg/dist/index.js" ] || (cd "$pkg" && npx tsc -p tsconfig.json >&2)
mkdir -p "$out/node_modules/@clutchcall"
ln -sfn "$pkg" "$out/node_modules/@clutchcall/sdk"
ln -sfn "$pkg/node_modules/@types" "$out/node_modules/@types"
cp "$here/testee.ts" "$out/testee.ts"
cat > "$out/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "types": ["node"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "outDir": "dist"
  },
  "files": ["testee.ts"]
}
JSON
printf '{"type": "module", "private": true}\n' > "$out/package.json"
(cd "$out" && "$pkg/node_modules/.bin/tsc" -p tsconfig.json >&2)
echo "node $out/dist/testee.js"
