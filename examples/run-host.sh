#!/bin/sh
# `npm run example`: writes a config for the two example plugins into build/goplugin (what
# `goplugin register examples/manifests/ts-rest` and `…/ts-grpc` would write, with the md5s of this
# build) and runs examples/host.ts against it. Run `npm run build` first.
set -eu
cd "$(dirname "$0")/.."
export GOPLUGIN_DIR="$PWD/build/goplugin"
node --input-type=module - <<'JS'
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
const entry = (name, script, commType) => {
  const file = path.resolve("build/examples", script)
  const md5 = createHash("md5").update(fs.readFileSync(file)).digest("hex")
  return `[plugins.${name}]\nmd5 = "${md5}"\nexec = "node"\nexec_args = [${JSON.stringify(file)}]\n` +
    `exec_file = ${JSON.stringify(file)}\nexec_time = 10\ncomm_type = "${commType}"\n`
}
fs.mkdirSync(process.env.GOPLUGIN_DIR, { recursive: true })
fs.writeFileSync(
  path.join(process.env.GOPLUGIN_DIR, "config.toml"),
  [entry("ts_rest", "rest-plugin.cjs", "rest"), entry("ts_grpc", "grpc-plugin.js", "grpc"), `[hosts.demo]\nplugins = ["ts_rest", "ts_grpc"]\n`].join("\n")
)
JS
node build/examples/host.js
