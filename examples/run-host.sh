#!/bin/sh
# `npm run example`: registers the example plugins into a fresh GOPLUGIN_DIR (build/goplugin, so the
# md5s are those of this build) and runs examples/host.ts against it. Run `npm run build` first.
set -eu
cd "$(dirname "$0")/.."
export GOPLUGIN_DIR="$PWD/build/goplugin"
rm -f "$GOPLUGIN_DIR/config.toml"
node dist/cli/bin.js register examples/manifests/ts-rest
node dist/cli/bin.js register examples/manifests/ts-grpc
node build/examples/host.js
