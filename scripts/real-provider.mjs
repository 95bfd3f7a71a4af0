#!/usr/bin/env node
// Hosts a real Terraform provider binary (protocol 5, e.g. the AWS provider) through the CLI, the way
// docs/go-plugin.md configures one: checksum, Terraform's handshake, AutoMTLS (then plain), `goplugin
// ping`, and `goplugin call tfplugin5.Provider/GetSchema`; then checks that no provider process is
// left. Nothing here is part of the test suite: a provider binary is hundreds of megabytes and not in
// the repository. Usage (after `npm run build`):
//
//   node scripts/real-provider.mjs /path/to/terraform-provider-aws_v5.100.0_x5
//
// It prints one line per step and exits non-zero on the first failure.
import { execFileSync, spawnSync } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const provider = process.argv[2]
if (provider === undefined || !fs.existsSync(provider)) {
  console.error("usage: node scripts/real-provider.mjs <terraform-provider binary (protocol 5)>")
  process.exit(2)
}

const md5 = () =>
  new Promise((resolve, reject) => {
    const hash = crypto.createHash("md5")
    fs.createReadStream(provider).on("data", (chunk) => hash.update(chunk)).on("end", () => resolve(hash.digest("hex"))).on("error", reject)
  })

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-real-provider-"))
const cli = (args) => {
  const began = performance.now()
  const run = spawnSync(process.execPath, [path.join(root, "dist", "cli", "bin.js"), ...args], {
    env: { ...process.env, GOPLUGIN_DIR: dir },
    maxBuffer: 1024 * 1024 * 1024
  })
  return { ...run, stdout: run.stdout.toString(), stderr: run.stderr.toString(), ms: performance.now() - began }
}
const leftovers = () => {
  const found = execFileSync("ps", ["-eo", "pid,args"]).toString().split("\n").filter((line) => line.includes(provider) && !line.includes("real-provider.mjs"))
  return found
}
const check = (ok, message) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${message}`)
  if (!ok) process.exitCode = 1
  return ok
}

try {
  fs.copyFileSync(path.join(root, "test", "fixtures", "go", "tfplugin5.proto"), path.join(dir, "tfplugin5.proto"))
  const sum = await md5()
  for (const autoMtls of [true, false]) {
    fs.writeFileSync(path.join(dir, "config.toml"), [
      "[settings]",
      "call_timeout = 120",
      "",
      "[plugins.provider]",
      `md5 = "${sum}"`,
      `exec = ${JSON.stringify(path.resolve(provider))}`,
      `comm_type = "go-plugin"`,
      "exec_time = 60",
      "",
      "[plugins.provider.go_plugin]",
      `magic_cookie_key = "TF_PLUGIN_MAGIC_COOKIE"`,
      `magic_cookie_value = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"`,
      "protocol_versions = [6, 5]",
      `auto_mtls = ${autoMtls}`,
      `proto_files = ["tfplugin5.proto"]`,
      `services = ["tfplugin5.Provider"]`,
      "",
      "[hosts.app]",
      `plugins = ["provider"]`,
      ""
    ].join("\n"))
    const mode = autoMtls ? "AutoMTLS" : "plain"
    const ping = cli(["ping", "app", "provider"])
    check(ping.status === 0 && ping.stdout.includes("SERVING"), `${mode}: goplugin ping: ${(ping.stdout || ping.stderr).trim()}`)
    const schema = cli(["call", "app", "provider", "tfplugin5.Provider/GetSchema", "--data", "{}"])
    let parsed
    try {
      parsed = JSON.parse(schema.stdout)
    } catch {
      parsed = undefined
    }
    const resources = parsed === undefined ? 0 : Object.keys(parsed.resource_schemas ?? {}).length
    check(
      schema.status === 0 && resources > 0,
      `${mode}: goplugin call tfplugin5.Provider/GetSchema: ${(schema.stdout.length / 1e6).toFixed(1)} MB of JSON, ` +
        `${resources} resource schemas, ${(schema.ms / 1000).toFixed(1)} s${schema.status === 0 ? "" : `; ${schema.stderr.trim()}`}`
    )
    const left = leftovers()
    check(left.length === 0, `${mode}: no provider process left${left.length === 0 ? "" : `: ${left.join("; ")}`}`)
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
