/**
 * A Terraform-provider-style go-plugin binary (test/fixtures/go/provider, built as
 * terraform-provider-fixture with go-plugin 1.0.1: Terraform's cookie, protocol 5,
 * plugin.DefaultGRPCServer, tfplugin5.Provider) hosted from a config written like the Terraform example
 * of docs/go-plugin.md: through `Executor.fromHost` + `container.run` under AutoMTLS, and through the
 * CLI (`goplugin ping`, `goplugin call`). Its schema is about 6 MiB, over grpc-js's 4 MiB default
 * receive limit: it passes with the default `max_receive_bytes` and fails, typed, with 4 MiB.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import * as Executor from "../src/Executor.js"
import * as GoPlugin from "../src/GoPlugin.js"
import * as GoPluginSession from "../src/goplugin/GoPluginSession.js"
import * as JsonClient from "../src/goplugin/JsonClient.js"
import { goplugin, json, makeTempDir, removeDir } from "./cliHelpers.js"
import { goFixtures, terraformHandshake, testMarker, tfplugin5Proto } from "./goFixtures.js"
import { captureLogs, md5Of, processesMentioning, survivors, utf8 } from "./helpers.js"

const marker = testMarker()

/** grpc-js's default receive limit, and a `max_receive_bytes` left at it. */
const FOUR_MIB = 4 * 1024 * 1024

type DynamicValue = { readonly json?: string; readonly msgpack?: string }
type Diagnostic = { severity: string; summary: string; detail: string; attribute: { steps: Array<{ attribute_name?: string }> } | null }
type Attribute = { name: string; type: string; description: string; required: boolean; optional: boolean; computed: boolean; sensitive: boolean }
type Schema = { version: string; block: { attributes: Array<Attribute> } }

/** The slice of tfplugin5.Provider the tests call, as JSON (bytes as base64, int64 as strings). */
type Provider = {
  GetSchema: {
    request: object
    response: { provider: Schema; resource_schemas: Record<string, Schema>; diagnostics: Array<Diagnostic> }
  }
  PrepareProviderConfig: {
    request: { config: DynamicValue }
    response: { prepared_config: DynamicValue | null; diagnostics: Array<Diagnostic> }
  }
  Configure: { request: { terraform_version: string; config: DynamicValue }; response: { diagnostics: Array<Diagnostic> } }
  ReadResource: {
    request: { type_name: string; current_state: DynamicValue; private?: string }
    response: { new_state: DynamicValue | null; diagnostics: Array<Diagnostic>; private: string }
  }
  PlanResourceChange: {
    request: { type_name: string; prior_state: DynamicValue; proposed_new_state: DynamicValue; config: DynamicValue }
    response: { planned_state: DynamicValue | null; requires_replace: Array<{ steps: Array<{ attribute_name?: string }> }>; diagnostics: Array<Diagnostic> }
  }
  ApplyResourceChange: { request: { type_name: string }; response: object }
}

/** A Terraform value as a DynamicValue's `json` bytes, in base64 as the JSON mapping writes bytes. */
const dynamic = (value: object): DynamicValue => ({ json: Buffer.from(JSON.stringify(value)).toString("base64") })
const valueOf = (dv: DynamicValue | null): unknown => JSON.parse(Buffer.from(dv?.json ?? "", "base64").toString("utf8"))

/**
 * The Terraform example of docs/go-plugin.md with this fixture's paths (binary and .proto beside the
 * config), plus `exec_args` with the leftover marker; `fixture_small` is the same with
 * `max_receive_bytes` at grpc-js's default.
 */
const configToml = (md5: string) => {
  const entry = (name: string, extra: string) => `
[plugins.${name}]
md5 = "${md5}"
exec = "./terraform-provider-fixture"
exec_args = ["${marker}"]
comm_type = "go-plugin"
exec_time = 10

[plugins.${name}.go_plugin]
magic_cookie_key = "${terraformHandshake.magicCookieKey}"
magic_cookie_value = "${terraformHandshake.magicCookieValue}"
protocol_versions = [6, 5]
auto_mtls = true
proto_files = ["tfplugin5.proto"]
services = ["tfplugin5.Provider"]
${extra}`
  return `[meta]
version = "1.0.0"
${entry("fixture", "")}${entry("fixture_small", `max_receive_bytes = ${FOUR_MIB}`)}
[hosts.app]
plugins = ["fixture", "fixture_small"]
`
}

let dir = ""
let configFile = ""
beforeAll(() => {
  const { provider } = goFixtures()
  dir = makeTempDir()
  fs.copyFileSync(provider, path.join(dir, "terraform-provider-fixture"))
  fs.chmodSync(path.join(dir, "terraform-provider-fixture"), 0o755)
  fs.copyFileSync(tfplugin5Proto, path.join(dir, "tfplugin5.proto"))
  configFile = path.join(dir, "config.toml")
  fs.writeFileSync(configFile, configToml(md5Of(provider)))
}, 180_000)
afterAll(() => removeDir(dir))

describe("a Terraform-provider-style go-plugin binary, hosted from the docs' Terraform config", () => {
  it.scopedLive("AutoMTLS, protocol 5 of [6, 5]; a schema over 4 MiB; UNIMPLEMENTED typed; config, read and plan round-trip; nothing left", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("fixture")
        expect(caller.protocol).toBe("go-plugin")
        pids.push((yield* container.running)[0]!.process!.pid)
        expect(yield* caller.ping).toBe("SERVING")
        // Offered [6, 5], the provider answered 5 with its AutoMTLS certificate; go-plugin logged its side.
        const { handshake } = (yield* GoPluginSession.current(container, "fixture")).connection
        expect(handshake.appVersion).toBe(5)
        expect(handshake.certificate?.length).toBeGreaterThan(100)

        // The schema through the caller's exec, as bytes: larger than grpc-js's default limit.
        const raw = yield* caller.exec("tfplugin5.Provider/GetSchema", utf8("{}"), { timeout: "15 seconds" })
        expect(raw.length).toBeGreaterThan(FOUR_MIB)
        const provider = yield* JsonClient.fromContainer<Provider>(container, "fixture", "tfplugin5.Provider")
        const schema = yield* provider.call("GetSchema", {}, { timeout: "15 seconds" })
        expect(Object.keys(schema.resource_schemas)).toHaveLength(1501)
        expect(schema.diagnostics).toEqual([])
        expect(schema.provider.block.attributes.map((a) => a.name)).toEqual(["region", "token", "greeting"])
        const thing = schema.resource_schemas["fixture_thing"]!
        expect(thing.version).toBe("1")
        expect(thing.block.attributes.find((a) => a.name === "name")).toMatchObject({ required: true, type: Buffer.from(`"string"`).toString("base64") })

        // Config validation: a missing region is an error diagnostic on that attribute; defaults are filled in.
        const invalid = yield* provider.call("PrepareProviderConfig", { config: dynamic({}) })
        expect(invalid.diagnostics).toMatchObject([{ severity: "ERROR", summary: "Missing region", attribute: { steps: [{ attribute_name: "region" }] } }])
        const prepared = yield* provider.call("PrepareProviderConfig", { config: dynamic({ region: "eu-fixture-1" }) })
        expect(prepared.diagnostics).toEqual([])
        expect(valueOf(prepared.prepared_config)).toEqual({ region: "eu-fixture-1", greeting: "hello" })

        // Before Configure a resource read is refused by the provider (a diagnostic, as Terraform expects).
        const early = yield* provider.call("ReadResource", { type_name: "fixture_thing", current_state: dynamic({ id: "t-1" }) })
        expect(early.diagnostics).toMatchObject([{ severity: "ERROR", summary: "Provider not configured" }])
        expect((yield* provider.call("Configure", { terraform_version: "1.5.7", config: dynamic({ region: "eu-fixture-1" }) })).diagnostics).toEqual([])

        const read = yield* provider.call("ReadResource", {
          type_name: "fixture_thing",
          current_state: dynamic({ id: "t-1", name: "alpha", size: 3 }),
          private: Buffer.from("opaque").toString("base64")
        })
        expect(read.diagnostics).toEqual([])
        expect(valueOf(read.new_state)).toEqual({ id: "t-1", name: "alpha", size: 3, region: "eu-fixture-1" })
        expect(Buffer.from(read.private, "base64").toString()).toBe("opaque")

        const plan = yield* provider.call("PlanResourceChange", {
          type_name: "fixture_thing",
          prior_state: dynamic({ id: "t-1", name: "alpha" }),
          proposed_new_state: dynamic({ name: "beta" }),
          config: dynamic({ name: "beta" })
        })
        expect(valueOf(plan.planned_state)).toEqual({ id: "t-1", name: "beta", region: "eu-fixture-1" })
        expect(plan.requires_replace).toMatchObject([{ steps: [{ attribute_name: "name" }] }])
        const unknownType = yield* provider.call("ReadResource", { type_name: "fixture_nope", current_state: dynamic({}) })
        expect(unknownType.diagnostics).toMatchObject([{ severity: "ERROR", summary: "Unknown resource type" }])

        // A method of the service the provider does not implement: typed, naming the method and the status.
        const unimplemented = yield* Effect.flip(provider.call("ApplyResourceChange", { type_name: "fixture_thing" }))
        expect(unimplemented).toMatchObject({ _tag: "CallError", reason: "unimplemented", command: "tfplugin5.Provider/ApplyResourceChange" })
        expect(unimplemented.message).toMatch(/does not implement this method or service/)
        expect(unimplemented.message).toMatch(/tfplugin5\.Provider\/ApplyResourceChange/)
        expect(unimplemented.message).toMatch(/UNIMPLEMENTED/)
        expect(unimplemented.cause).toMatchObject({ _tag: "GoPluginCallError", code: "UNIMPLEMENTED" })

        // go-plugin's own line in the provider: it received the host's certificate (stderr, so it may come late).
        while (!logs.lines.some((entry) => entry.message === "configuring server automatic mTLS")) yield* Effect.sleep("5 millis")
        // Configure's hclog line reached the host's logger at its level, with its fields.
        while (!logs.lines.some((entry) => entry.message === "configured")) yield* Effect.sleep("5 millis")
        expect(logs.lines.find((entry) => entry.message === "configured")).toMatchObject({
          level: "INFO",
          annotations: { region: "eu-fixture-1", terraform_version: "1.5.7", plugin: "fixture" }
        })
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile })), Effect.provide(logs.layer))
      expect(yield* survivors(pids)).toEqual([])
      expect(processesMentioning(marker)).toEqual([])
    }), 20_000)

  it.scopedLive("max_receive_bytes at 4 MiB: the schema call fails with a typed RESOURCE_EXHAUSTED naming the size and the limit; small calls still work", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("fixture_small")
        const provider = JsonClient.fromCaller<Provider>(caller, "tfplugin5.Provider")
        const tooBig = yield* Effect.flip(provider.call("GetSchema", {}, { timeout: "15 seconds" }))
        expect(tooBig).toMatchObject({ _tag: "CallError", plugin: "fixture_small", command: "tfplugin5.Provider/GetSchema", reason: "too-large" })
        expect(tooBig.message).toMatch(/max_receive_bytes in \[plugins\.fixture_small\.go_plugin\]/)
        expect(tooBig.cause).toMatchObject({ _tag: "GoPluginCallError", code: "RESOURCE_EXHAUSTED" })
        // grpc-js's own words, with the limit and the size that exceeded it.
        expect(tooBig.message).toMatch(new RegExp(`RESOURCE_EXHAUSTED.*larger than max \\(\\d+ vs\\.? ${FOUR_MIB}\\)`))
        // The plugin is fine: the failure was on the host's side of the connection.
        expect(yield* caller.ping).toBe("SERVING")
        const prepared = yield* provider.call("PrepareProviderConfig", { config: dynamic({ region: "r" }) })
        expect(prepared.diagnostics).toEqual([])
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile })))
      expect(processesMentioning(marker)).toEqual([])
    }), 20_000)
})

describe("a Terraform-provider-style plugin through the CLI, same config", () => {
  it("goplugin ping: SERVING under AutoMTLS; nothing left running", async () => {
    const ping = await goplugin(dir, ["ping", "app", "fixture", "--json"])
    expect(ping.code, ping.stderr).toBe(0)
    expect(json(ping)).toMatchObject({ host: "app", plugin: "fixture", protocol: "go-plugin", response: "SERVING" })
    expect(processesMentioning(marker)).toEqual([])
  }, 20_000)

  it("goplugin call tfplugin5.Provider/GetSchema --data '{}': the whole schema as JSON; nothing left running", async () => {
    const call = await goplugin(dir, ["call", "app", "fixture", "tfplugin5.Provider/GetSchema", "--data", "{}"])
    expect(call.code, call.stderr.slice(0, 2000)).toBe(0)
    const schema = JSON.parse(call.stdout) as Provider["GetSchema"]["response"]
    expect(Object.keys(schema.resource_schemas)).toHaveLength(1501)
    expect(schema.resource_schemas["fixture_filler_1499"]!.block.attributes).toHaveLength(20)
    expect(processesMentioning(marker)).toEqual([])
  }, 20_000)

  it("goplugin call with max_receive_bytes at 4 MiB fails naming the size and the limit; an unimplemented method names UNIMPLEMENTED", async () => {
    const small = await goplugin(dir, ["call", "app", "fixture_small", "tfplugin5.Provider/GetSchema", "--data", "{}"])
    expect(small.code).not.toBe(0)
    expect(small.stdout).toBe("")
    expect(small.stderr).toMatch(/fixture_small/)
    expect(small.stderr).toMatch(new RegExp(`GetSchema: RESOURCE_EXHAUSTED: Received message larger than max \\(\\d+ vs\\.? ${FOUR_MIB}\\)`))
    expect(small.stderr).toMatch(/max_receive_bytes/)
    const stop = await goplugin(dir, ["call", "app", "fixture", "tfplugin5.Provider/Stop", "--data", "{}"])
    expect(stop.code).not.toBe(0)
    expect(stop.stderr).toMatch(/tfplugin5\.Provider\/Stop.*UNIMPLEMENTED/)
    expect(processesMentioning(marker)).toEqual([])
  }, 20_000)
})
