#!/usr/bin/env bash
# The packaging check: `npm pack` (its prepack builds dist/), the tarball installed into an empty app,
# then from that app a host program that starts an SDK plugin and calls it, and `npx goplugin`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/goplugin-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT

npm pack --pack-destination "$work"
tarball=$(cd "$work" && ls -- *.tgz)
tar -tzf "$work/$tarball" > "$work/contents"
for file in dist/index.js dist/sdk/index.js dist/cli/bin.js proto/plugin.proto; do
  grep -qx "package/$file" "$work/contents" || { echo "package.sh: $tarball has no $file" >&2; exit 1; }
done

app="$work/app"
mkdir -p "$app"
cd "$app"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund "$work/$tarball"
cp "$repo/.ci/package-app/plugin.mjs" "$repo/.ci/package-app/host.mjs" .

echo "--- npx goplugin --version"
version=$(npx --no-install goplugin --version)
echo "$version"
test "$version" = "$(node -p 'require("goplugin-effect/package.json").version')"
echo "--- npx goplugin md5 plugin.mjs"
npx --no-install goplugin md5 plugin.mjs
echo "--- node host.mjs"
GOPLUGIN_DIR="$app/gp" node host.mjs | tee host.out
grep -qx 'exec upper: PACKED' host.out
echo "package check passed: $tarball"
