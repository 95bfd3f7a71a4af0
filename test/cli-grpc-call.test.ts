/**
 * `goplugin call` on a plain `comm_type = "grpc"` plugin (the TypeScript gRPC example, registered from
 * its manifest): methods of proto/plugin.proto with the host's token, a service from a `--proto` file,
 * and the typed refusals (unknown service or method, bad JSON, a REST entry, `--proto` on a go-plugin
 * entry is covered by the go-plugin CLI test). One run goes through the built command end to end;
 * nothing may be left running.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { exampleGopluginDirs, goplugin, gopluginInProcess as cli, json } from "./cliHelpers.js"
import { survivors } from "./helpers.js"

const { registered } = exampleGopluginDirs()

/** A narrower view of the service the example serves, and a service it does not serve. */
const otherProto = `syntax = "proto3";
package plugin;
import "google/protobuf/empty.proto";
message StatusOnly { string Status = 1; }
service Plugin { rpc Ping (google.protobuf.Empty) returns (StatusOnly); }
`
const absentProto = `syntax = "proto3";
package billing;
message BalanceRequest { string account = 1; }
message BalanceResponse { int64 cents = 1; }
service Ledger { rpc Balance (BalanceRequest) returns (BalanceResponse); }
`

describe("goplugin call on a grpc plugin", () => {
  it("calls plugin.Plugin/Ping and Exec of proto/plugin.proto with the host's token, and prints JSON", async () => {
    const dir = await registered()
    // The built command, end to end.
    const ping = await goplugin(dir, ["call", "demo", "ts_grpc", "plugin.Plugin/Ping", "--json"])
    expect(ping.code, ping.stderr).toBe(0)
    const answer = json<{ pid: number; response: unknown }>(ping)
    expect(answer).toMatchObject({ host: "demo", plugin: "ts_grpc", method: "plugin.Plugin/Ping", response: { Status: "success", Data: { Response: "pong" } } })
    const upper = await cli(dir, ["call", "demo", "ts_grpc", "plugin.Plugin/Exec", "--data", `{"Command":"upper","Payload":"${Buffer.from("hi").toString("hex")}"}`])
    expect(upper.code, upper.stderr).toBe(0)
    expect(JSON.parse(upper.stdout)).toMatchObject({ Status: "success", Data: { Response: Buffer.from("HI").toString("hex") } })
    expect(await Effect.runPromise(survivors([answer.pid]))).toEqual([])
  })

  it("--proto: the given files are looked up first; a service the plugin does not serve is a call error", async () => {
    const dir = await registered()
    const other = path.join(dir, "other.proto")
    const absent = path.join(dir, "ledger.proto")
    fs.writeFileSync(other, otherProto)
    fs.writeFileSync(absent, absentProto)
    const narrow = await cli(dir, ["call", "demo", "ts_grpc", "plugin.Plugin/Ping", "--proto", other])
    expect(narrow.code, narrow.stderr).toBe(0)
    // Decoded with the narrower message: Data is not in it.
    expect(JSON.parse(narrow.stdout)).toEqual({ Status: "success" })
    const unimplemented = await cli(dir, ["call", "demo", "ts_grpc", "billing.Ledger/Balance", "--proto", other, "--proto", absent, "--data", `{"account":"a1"}`])
    expect(unimplemented.code).toBe(6)
    expect(unimplemented.stderr).toMatch(/CallError|UNIMPLEMENTED/)
    const unreadable = await cli(dir, ["call", "demo", "ts_grpc", "plugin.Plugin/Ping", "--proto", path.join(dir, "missing.proto")])
    expect(unreadable.code).toBe(2)
    expect(unreadable.stderr).toMatch(/--proto: /)
  })

  it("typed refusals: unknown service, unknown method, bad JSON, a REST entry", async () => {
    const dir = await registered()
    const service = await cli(dir, ["call", "demo", "ts_grpc", "nope.Nope/Ping"])
    expect(service.code).toBe(6)
    expect(service.stderr).toMatch(/no service nope\.Nope in plugin\.proto \(services: plugin\.Plugin\); give its \.proto file with --proto/)
    const method = await cli(dir, ["call", "demo", "ts_grpc", "plugin.Plugin/Nope"])
    expect(method.code).toBe(6)
    expect(method.stderr).toMatch(/plugin\.Plugin has no unary method Nope \(unary methods: Ping, Exec\)/)
    const badJson = await cli(dir, ["call", "demo", "ts_grpc", "plugin.Plugin/Exec", "--data", "[1]"])
    expect(badJson.code).toBe(2)
    expect(badJson.stderr).toMatch(/--data: the payload must be a JSON object/)
    const rest = await cli(dir, ["call", "demo", "ts_rest", "plugin.Plugin/Ping"])
    expect(rest.code).toBe(2)
    expect(rest.stderr).toMatch(/comm_type "rest": goplugin call speaks gRPC .* goplugin exec <host> ts_rest <command>/)
  })
})
