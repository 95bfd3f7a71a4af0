/**
 * Compatibility with go-plugin's upstream main branch (≥ 1.6), whose binaries this machine cannot build:
 * handshake lines in the exact shapes main's server.go prints, the environment main's client.go sets
 * (and the variables our host must clear), and the SDK honouring `PLUGIN_UNIX_SOCKET_DIR`,
 * `PLUGIN_UNIX_SOCKET_GROUP` and declining `PLUGIN_MULTIPLEX_GRPC`, as a main host sets them. All of it
 * in-process, but for one launch of the Go fixture showing that inherited variables do not reach it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Deferred, Duration, Effect, Either, Exit, Fiber, Layer, LogLevel } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { insecure } from "../src/goplugin/AutoMtls.js"
import * as Broker from "../src/goplugin/Broker.js"
import * as Connection from "../src/goplugin/Connection.js"
import * as Handshake from "../src/goplugin/Handshake.js"
import * as Launch from "../src/goplugin/Launch.js"
import { launchEnv } from "../src/goplugin/Launch.js"
import { generate } from "../src/goplugin/SelfSignedCertificate.js"
import * as UnixSocketConfig from "../src/goplugin/UnixSocketConfig.js"
import { serveGoPlugin } from "../src/sdk/GoPluginServe.js"
import { hclogLine } from "../src/sdk/HclogLogger.js"
import * as ProcessRegistry from "../src/ProcessRegistry.js"
import { goFixtures, kvHandshake, testMarker } from "./goFixtures.js"
import { captureLogs, processesMentioning, survivors, tempDir } from "./helpers.js"

const where = { host: "app", plugin: "tf", offered: [5, 6] }
const parse = (line: string) => Handshake.parse(line, where)

/** `fmt.Sprintf("%d|%d|%s|%s|%s|%s", …)` of main's server.go, plus `|true` when PLUGIN_MULTIPLEX_GRPC is non-empty. */
const mainLine = (parts: { app: number; network: string; address: string; cert?: string }, multiplexEnv = "") =>
  `1|${parts.app}|${parts.network}|${parts.address}|grpc|${parts.cert ?? ""}${multiplexEnv !== "" ? "|true" : ""}\n`

describe("handshake lines of go-plugin main", () => {
  it("plain, in a PLUGIN_UNIX_SOCKET_DIR folder, over TCP (Windows), and under AutoMTLS", () => {
    expect(Either.getOrThrow(parse(mainLine({ app: 6, network: "unix", address: "/tmp/plugin2851823406" })))).toMatchObject({
      appVersion: 6,
      network: "unix",
      address: "/tmp/plugin2851823406",
      certificate: undefined
    })
    // A RunnerFunc host's socket folder (client.go: os.MkdirTemp(TempDir, "plugin-dir")); CreateTemp(dir, "plugin").
    expect(Either.getOrThrow(parse(mainLine({ app: 5, network: "unix", address: "/run/tf/plugin-dir1234/plugin98765" }))).address)
      .toBe("/run/tf/plugin-dir1234/plugin98765")
    expect(Either.getOrThrow(parse(mainLine({ app: 5, network: "tcp", address: "127.0.0.1:10000" }))).network).toBe("tcp")
    const own = generate()
    const cert = Buffer.from(own.der).toString("base64").replace(/=+$/, "")
    const mtls = Either.getOrThrow(parse(mainLine({ app: 6, network: "unix", address: "/tmp/plugin1", cert })))
    expect(Buffer.from(mtls.certificate!).equals(Buffer.from(own.der))).toBe(true)
  })

  it("the 7th field: refused when it says yamux (any Go true), accepted when false (any Go false)", () => {
    const refused = parse(mainLine({ app: 6, network: "unix", address: "/tmp/plugin1" }, "true"))
    expect(Either.isLeft(refused) && refused.left.problem).toMatch(/yamux.*PLUGIN_MULTIPLEX_GRPC/)
    for (const yes of ["1", "t", "T", "TRUE", "True"]) {
      expect(Either.isLeft(parse(`1|6|unix|/tmp/p|grpc||${yes}`))).toBe(true)
    }
    for (const no of ["false", "0", "f", "F", "FALSE", "False"]) {
      expect(Either.getOrThrow(parse(`1|6|unix|/tmp/p|grpc||${no}`)).multiplexed).toBe(false)
    }
  })

  it("a short 6th field is the unused extra data of older plugins, ignored as go-plugin's host does (len ≤ 50)", () => {
    expect(Either.getOrThrow(parse("1|6|unix|/tmp/p|grpc|extra-data")).certificate).toBeUndefined()
    expect(Either.getOrThrow(parse(`1|6|unix|/tmp/p|grpc|${"x".repeat(Handshake.MIN_CERTIFICATE_FIELD)}`)).certificate).toBeUndefined()
    expect(Either.isLeft(parse(`1|6|unix|/tmp/p|grpc|${"-".repeat(Handshake.MIN_CERTIFICATE_FIELD + 1)}`))).toBe(true)
  })

  it("format writes the 7th field only when asked, as main's server does", () => {
    const base = { appVersion: 3, network: "unix" as const, address: "/tmp/p", certificate: undefined }
    expect(Handshake.format(base)).toBe("1|3|unix|/tmp/p|grpc|")
    expect(Handshake.format(base, false)).toBe("1|3|unix|/tmp/p|grpc||false")
  })
})

describe("the environment", () => {
  it("launchEnv clears PLUGIN_CLIENT_CERT and PLUGIN_MULTIPLEX_GRPC a host might have inherited", () => {
    const env = launchEnv({ magicCookieKey: "TF_PLUGIN_MAGIC_COOKIE", magicCookieValue: "d602", protocolVersions: [6, 5] }, undefined)
    // Spread over an inherited environment, as the process registry does.
    const child = { ...{ PLUGIN_CLIENT_CERT: "-----BEGIN CERTIFICATE-----…", PLUGIN_MULTIPLEX_GRPC: "true" }, ...env }
    expect(child).toMatchObject({ PLUGIN_CLIENT_CERT: "", PLUGIN_MULTIPLEX_GRPC: "", PLUGIN_PROTOCOL_VERSIONS: "6,5" })
  })

  it.live("a go-plugin binary started without AutoMTLS never sees a PLUGIN_CLIENT_CERT the host inherited", () =>
    Effect.gen(function*() {
      const kvplugin = goFixtures().kvplugin
      const marker = testMarker()
      const pids: Array<number> = []
      const inherited = generate().certificatePem
      yield* Effect.scoped(Effect.gen(function*() {
        const { connection, handshake, process: plugin } = yield* Launch.launch({
          host: "app",
          plugin: "kv",
          exec: kvplugin,
          args: [marker],
          cwd: process.cwd(),
          // As if the host's own environment had them (a host that is itself a go-plugin plugin).
          env: { PLUGIN_CLIENT_CERT: inherited, PLUGIN_MULTIPLEX_GRPC: "true" },
          grace: Duration.seconds(2),
          settings: {
            magicCookieKey: kvHandshake.magicCookieKey,
            magicCookieValue: kvHandshake.magicCookieValue,
            protocolVersions: [kvHandshake.protocolVersion],
            autoMtls: false,
            protoFiles: [],
            protoInclude: [],
            services: [],
            handshakeTimeout: Duration.seconds(15),
            maxReceiveBytes: 1024 * 1024
          }
        })
        pids.push(plugin.pid)
        // Had the plugin seen the certificate, it would serve TLS only and announce its own.
        expect(handshake.certificate).toBeUndefined()
        yield* connection.ping()
      })).pipe(Effect.provide(Layer.merge(ProcessRegistry.layer, captureLogs().layer)))
      expect(yield* survivors(pids)).toEqual([])
      expect(processesMentioning(marker)).toEqual([])
    }), 20_000)

  it("UnixSocketConfig reads the variables (empty is unset) and finds a group by gid or by name", () => {
    expect(UnixSocketConfig.fromEnv({ PLUGIN_UNIX_SOCKET_DIR: "/run/x", PLUGIN_UNIX_SOCKET_GROUP: "" })).toEqual({ dir: "/run/x", group: undefined })
    const etcGroup = "root:x:0:\nplugins:x:1234:alice,bob\nbroken:x:nope:\n"
    expect(UnixSocketConfig.groupId("1234", "")).toEqual(Either.right(1234))
    expect(UnixSocketConfig.groupId("plugins", etcGroup)).toEqual(Either.right(1234))
    expect(UnixSocketConfig.groupId("broken", etcGroup)).toEqual(Either.left(`no group "broken" in /etc/group`))
    expect(UnixSocketConfig.groupId("absent", etcGroup)).toEqual(Either.left(`no group "absent" in /etc/group`))
  })

  it("hclog lines keep their four keys strings: a main host reads them with Go type assertions", () => {
    const line = JSON.parse(hclogLine("kv", LogLevel.Info, "hello", [["@message", 5], ["@level", true], ["n", 1]], new Date(0)))
    expect(line).toEqual({
      "@level": "info",
      "@message": "hello",
      "@module": "kv",
      // main's log_entry.go parses "2006-01-02T15:04:05.000000Z07:00".
      "@timestamp": "1970-01-01T00:00:00.000000Z",
      "_@message": 5,
      "_@level": true,
      n: 1
    })
  })
})

describe("the SDK under a go-plugin main host's environment", () => {
  it.scopedLive("sockets in PLUGIN_UNIX_SOCKET_DIR, owned by PLUGIN_UNIX_SOCKET_GROUP (0660); PLUGIN_MULTIPLEX_GRPC declined with |false", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const gid = process.getgid!()
      const logs = captureLogs()
      const announced = yield* Deferred.make<string>()
      const serving = yield* serveGoPlugin({
        magicCookieKey: "K",
        magicCookieValue: "v",
        protocolVersions: [5, 6],
        services: () => [],
        env: { K: "v", PLUGIN_PROTOCOL_VERSIONS: "5,6", PLUGIN_UNIX_SOCKET_DIR: dir, PLUGIN_UNIX_SOCKET_GROUP: String(gid), PLUGIN_MULTIPLEX_GRPC: "true" },
        announce: (line) => Deferred.unsafeDone(announced, Exit.succeed(line))
      }).pipe(Effect.scoped, Effect.provide(logs.layer), Effect.fork)
      const line = yield* Deferred.await(announced)
      expect(line.split("|")).toHaveLength(7)
      expect(line.endsWith("|false")).toBe(true)
      const handshake = Either.getOrThrow(parse(line))
      expect(path.dirname(handshake.address)).toBe(dir)
      const stat = fs.statSync(handshake.address)
      expect(stat.isSocket()).toBe(true)
      expect(stat.mode & 0o777).toBe(UnixSocketConfig.GROUP_SOCKET_MODE)
      expect(stat.gid).toBe(gid)
      expect(logs.lines.some((entry) => entry.level === "WARN" && /PLUGIN_MULTIPLEX_GRPC/.test(entry.message))).toBe(true)
      // Our own host reaches it there, and its Shutdown ends serving.
      yield* Effect.scoped(Effect.gen(function*() {
        const connection = yield* Connection.connect({ host: "app", plugin: "ts", handshake, security: insecure() })
        yield* connection.ping()
      }))
      yield* Fiber.join(serving)
      // Its socket is gone, the host's folder stays.
      expect(fs.existsSync(handshake.address)).toBe(false)
      expect(fs.existsSync(dir)).toBe(true)
    }))

  it.scopedLive("brokered sockets get the group too", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const gid = process.getgid!()
      const sent: Array<string> = []
      const broker = yield* Broker.make({ grpc, security: insecure(), socketDir: Effect.succeed(dir), socketGroup: gid, send: (info) => Effect.sync(() => void sent.push(info.address)) })
      yield* broker.serve(yield* broker.nextId, [])
      expect(path.dirname(sent[0]!)).toBe(dir)
      expect(fs.statSync(sent[0]!).mode & 0o777).toBe(UnixSocketConfig.GROUP_SOCKET_MODE)
    }))
})
