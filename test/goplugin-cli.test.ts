/**
 * `goplugin call` on a go-plugin entry of config.toml: the Go fixture plugin (go-plugin 1.0.1) started
 * from the config (checksum and ACL checked), plain and with AutoMTLS, one unary call, JSON out.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { goplugin, json, makeTempDir } from "./cliHelpers.js"
import { goFixtures, kvGoPluginTable, kvProto, testMarker } from "./goFixtures.js"

const marker = testMarker()
import { processesMentioning, renderConfig } from "./helpers.js"

let dir = ""
let kvplugin = ""
beforeAll(() => {
  kvplugin = goFixtures().kvplugin
  dir = makeTempDir()
  fs.copyFileSync(kvProto, path.join(dir, "kv.proto"))
  const entry = (name: string, autoMtls: boolean) => ({
    name,
    exec: kvplugin,
    args: [marker],
    execFile: kvplugin,
    commType: "go-plugin",
    extra: kvGoPluginTable(name, autoMtls)
  })
  fs.writeFileSync(path.join(dir, "config.toml"), renderConfig([entry("kv", false), entry("kv_tls", true)], { app: ["kv", "kv_tls"] }))
}, 180_000)
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("goplugin call", () => {
  for (const name of ["kv", "kv_tls"]) {
    it(`${name}: calls a unary method with a JSON request and prints the JSON answer; nothing left running`, async () => {
      const run = await goplugin(dir, ["call", "app", name, "kv.KV/Get", "--data", `{"key":"greeting"}`, "--json"])
      expect(run.code, run.stderr).toBe(0)
      expect(json(run)).toMatchObject({ host: "app", plugin: name, method: "kv.KV/Get", response: { value: "", found: false } })
      const counter = await goplugin(dir, ["call", "app", name, "kv.KV/Counter"])
      expect(JSON.parse(counter.stdout)).toEqual({ counter_id: 1 })
      expect(processesMentioning(marker)).toEqual([])
    })
  }

  it("goplugin ping and goplugin exec work on a go-plugin entry through the container", async () => {
    const ping = await goplugin(dir, ["ping", "app", "kv_tls", "--json"])
    expect(ping.code, ping.stderr).toBe(0)
    expect(json(ping)).toMatchObject({ host: "app", plugin: "kv_tls", protocol: "go-plugin", response: "SERVING" })
    const exec = await goplugin(dir, ["exec", "app", "kv", "kv.KV/Get", "--data", `{"key":"greeting"}`])
    expect(exec.code, exec.stderr).toBe(0)
    expect(JSON.parse(exec.stdout)).toEqual({ value: "", found: false })
    expect(processesMentioning(marker)).toEqual([])
  })

  it("refuses a method that is not package.Service/Method, a bad request, and an unknown method", async () => {
    const malformed = await goplugin(dir, ["call", "app", "kv", "Get"])
    expect(malformed.code).not.toBe(0)
    expect(malformed.stderr).toMatch(/"Get" is not package\.Service\/Method/)
    const badJson = await goplugin(dir, ["call", "app", "kv", "kv.KV/Get", "--data", "{key"])
    expect(badJson.stderr).toMatch(/--data: the payload is not UTF-8 JSON/)
    const unknown = await goplugin(dir, ["call", "app", "kv", "kv.KV/Nope"])
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/kv\.KV has no unary method Nope/)
    const proto = await goplugin(dir, ["call", "app", "kv", "kv.KV/Get", "--proto", "kv.proto"])
    expect(proto.code).toBe(2)
    expect(proto.stderr).toMatch(/--proto is for comm_type = "grpc" plugins; .* proto_files in its \[plugins\.kv\.go_plugin\] table/)
    expect(processesMentioning(marker)).toEqual([])
  })
})
