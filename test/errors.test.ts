/**
 * Error messages a newcomer meets tell what to do: a checksum mismatch of a plugin registered from a
 * manifest names the register command, a gRPC deadline carries no grpc-js internals, and a crashed
 * stdio plugin's error carries its last stderr lines.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { oneLine } from "../src/cli/output.js"
import { plainDetail } from "../src/GrpcCaller.js"
import { verifyFile } from "../src/Md5Checker.js"
import { CallError, ChecksumMismatch, PluginNotReady } from "../src/PluginError.js"
import { tempDir } from "./helpers.js"

describe("error hints", () => {
  it.scoped("a checksum mismatch next to a goplugin.toml says to register the folder again with --force", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "plugin.sh")
      fs.writeFileSync(file, "#!/bin/sh\n")
      const alone = yield* Effect.flip(verifyFile("alone", file, { md5: "0".repeat(32) }))
      expect(alone).toBeInstanceOf(ChecksumMismatch)
      expect(alone.message).toContain("update md5 in [plugins.alone] (goplugin md5 <file> prints it)")

      fs.writeFileSync(path.join(dir, "goplugin.toml"), `[plugin]\nname = "shipped"\n`)
      const shipped = yield* Effect.flip(verifyFile("shipped", file, { md5: "0".repeat(32) }))
      expect(shipped).toMatchObject({ _tag: "ChecksumMismatch", manifestDir: dir })
      expect(shipped.message).toContain(`if the change is trusted, register it again: goplugin register ${dir} --force.`)
    }))

  it("a plugin that was not ready says where the host looked, without doubling the last error's punctuation", () => {
    const asked = new PluginNotReady({
      host: "app",
      plugin: "kv",
      waitedMillis: 5000,
      lastError: "cannot use its gRPC server at unix:///tmp/x.sock: connect ENOENT. Is the plugin still running?",
      lastStderr: []
    })
    expect(asked.message).toContain("the last thing seen: cannot use its gRPC server at unix:///tmp/x.sock: connect ENOENT. Is the plugin still running? Raise exec_time in [plugins.kv]")
    expect(asked.message).toContain("for a go-plugin binary, the address in its handshake line")
    const plain = new PluginNotReady({ host: "app", plugin: "kv", waitedMillis: 5000, lastError: "port 4000: ECONNREFUSED", lastStderr: [] })
    expect(plain.message).toContain("the last thing seen: port 4000: ECONNREFUSED. Raise exec_time")
  })

  it("a gRPC deadline keeps only its first part", () => {
    const details = "Deadline exceeded after 4.272s,metadata filters: 0.371s,LB pick: 0.049s,remote_addr=127.0.0.1:4000"
    expect(plainDetail({ code: grpc.status.DEADLINE_EXCEEDED, details, message: `4 DEADLINE_EXCEEDED: ${details}` }))
      .toBe("Deadline exceeded after 4.272s")
    expect(plainDetail({ code: grpc.status.UNKNOWN, details: "a, b", message: "2 UNKNOWN: a, b" })).toBe("a, b")
    expect(plainDetail({ code: grpc.status.INTERNAL, details: "", message: "13 INTERNAL" })).toBe("13 INTERNAL")
  })

  it("a crashed plugin's call error shows its last stderr lines on the CLI's one line, not a pointer to a log", () => {
    const error = new CallError({
      host: "demo",
      plugin: "text",
      operation: "exec",
      command: "upper",
      reason: "exited",
      detail: "the process ended with exit code 3 without a valid answer on stdout; last stderr lines:\n  loading\n  boom: no such file"
    })
    const line = oneLine(error.message, error._tag)
    expect(line).toContain("last stderr lines: loading | boom: no such file")
    expect(line).not.toContain("host's log")
  })
})
