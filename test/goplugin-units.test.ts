/**
 * The pure pieces of go-plugin support, without processes: the handshake line, hclog lines, the
 * `[plugins.<name>.go_plugin]` schema, and the self-signed certificate.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Logger, LogLevel, Schema } from "effect"
import * as crypto from "node:crypto"
import { GoPluginSettings, resolvePaths } from "../src/goplugin/GoPluginSettings.js"
import * as Handshake from "../src/goplugin/Handshake.js"
import * as HclogLine from "../src/goplugin/HclogLine.js"
import { launchEnv } from "../src/goplugin/Launch.js"
import { derToPem, generate } from "../src/goplugin/SelfSignedCertificate.js"
import { hclogLine, hclogLogger } from "../src/sdk/HclogLogger.js"

const where = { host: "app", plugin: "kv", offered: [5, 6] }
const problemOf = (line: string, offered: ReadonlyArray<number> = [5, 6]) => {
  const parsed = Handshake.parse(line, { ...where, offered })
  if (Either.isRight(parsed)) throw new Error(`expected ${JSON.stringify(line)} to be refused`)
  expect(parsed.left._tag).toBe("HandshakeError")
  expect(parsed.left.message).toContain(`Plugin "kv" (host "app")`)
  return parsed.left.problem
}

describe("Handshake.parse", () => {
  it("reads a plain unix handshake (trailing empty CERT, surrounding whitespace)", () => {
    expect(Handshake.parse("  1|6|unix|/tmp/plugin3542387518|grpc|\n", where)).toEqual(Either.right({
      appVersion: 6,
      network: "unix",
      address: "/tmp/plugin3542387518",
      certificate: undefined,
      multiplexed: false
    }))
    expect(Either.getOrThrow(Handshake.parse("1|5|tcp|127.0.0.1:10001|grpc|", where)).network).toBe("tcp")
  })

  it("decodes the CERT field as unpadded standard base64 DER, and format writes it back", () => {
    const certificate = generate()
    const line = Handshake.format({ appVersion: 5, network: "unix", address: "/tmp/p", certificate: certificate.der })
    expect(line).not.toMatch(/=/)
    const parsed = Either.getOrThrow(Handshake.parse(line, where))
    expect(Buffer.from(parsed.certificate!).equals(Buffer.from(certificate.der))).toBe(true)
    expect(new crypto.X509Certificate(derToPem(parsed.certificate!)).subject).toContain("CN=localhost")
  })

  it("refuses netrpc, missing protocol, unknown protocols and fields, bad versions, bad certificates", () => {
    expect(problemOf("1|5|unix|/tmp/p|netrpc|")).toMatch(/netrpc/)
    expect(problemOf("1|5|unix|/tmp/p")).toMatch(/netrpc/)
    expect(problemOf("1|5|unix|/tmp/p|http|")).toMatch(/protocol "http" is unknown/)
    expect(problemOf("1|5|unix|/tmp/p|grpc||false|extra")).toMatch(/at most 7 fields/)
    expect(problemOf("1|5|unix|/tmp/p|grpc||maybe")).toMatch(/multiplexing field/)
    expect(problemOf("1|5|unix|/tmp/p|grpc||true")).toMatch(/yamux/)
    expect(problemOf("2|5|unix|/tmp/p|grpc|")).toMatch(/core protocol version is "2"/)
    expect(problemOf("1|x|unix|/tmp/p|grpc|")).toMatch(/not a number/)
    expect(problemOf("1|3|unix|/tmp/p|grpc|")).toMatch(/version 3, but the host offered 5, 6/)
    expect(problemOf("1|5|pipe|/tmp/p|grpc|")).toMatch(/neither unix nor tcp/)
    expect(problemOf("1|5|unix||grpc|")).toMatch(/address is empty/)
    expect(problemOf(`1|5|unix|/tmp/p|grpc|${"A".repeat(60)}====`)).toMatch(/unpadded standard base64/)
    expect(problemOf(`1|5|unix|/tmp/p|grpc|${"a-b_".repeat(15)}`)).toMatch(/unpadded standard base64/)
    expect(problemOf("")).toMatch(/at least 4 fields/)
    expect(problemOf("hello world")).toMatch(/at least 4 fields separated by "\|", got 1/)
  })

  it("negotiate picks the highest common version, else the plugin's lowest (go-plugin's rule)", () => {
    expect(Handshake.negotiate("5,6", [4, 5, 6])).toBe(6)
    expect(Handshake.negotiate("6,5", [5])).toBe(5)
    expect(Handshake.negotiate("7", [4, 5])).toBe(4)
    expect(Handshake.negotiate(undefined, [3])).toBe(3)
    expect(Handshake.negotiate("x, 5", [5, 9])).toBe(5)
  })
})

describe("HclogLine.readLine and reader", () => {
  /** One output's lines through a fresh reader, which carries readLine's state from line to line. */
  const read = (lines: ReadonlyArray<string>) => lines.map(HclogLine.reader())

  it("reads hclog JSON at its level with its fields (@module and @timestamp without the @)", () => {
    const [entry] = read([
      `{"@level":"warn","@message":"slow call","@module":"kv.plugin","@timestamp":"2026-12-01T17:24:18.369643Z","ms":12,"ok":false}`
    ])
    expect(entry).toEqual({
      level: LogLevel.Warning,
      message: "slow call",
      fields: { module: "kv.plugin", timestamp: "2026-12-01T17:24:18.369643Z", ms: 12, ok: false }
    })
    expect(read([`{"@level":"TRACE","@message":"t"}`, `{"@level":"error","@message":"e"}`, `{"@message":"no level"}`]).map((e) => e.level))
      .toEqual([LogLevel.Trace, LogLevel.Error, LogLevel.Debug])
  })

  it("takes other lines' level from a [LEVEL] prefix, else debug; JSON that is not an object is text", () => {
    expect(read(["[TRACE] a", "[DEBUG] b", "[INFO] c", "[WARN] d", "[ERROR] e", "[ERR] f", "plain", "[1,2]", "{broken"]).map((e) => e.level.label))
      .toEqual(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "ERROR", "DEBUG", "DEBUG", "DEBUG"])
  })

  it("after `panic: ` or `fatal error: ` every line is an error, JSON or not", () => {
    for (const crash of ["panic: runtime error: index out of range", "fatal error: all goroutines are asleep"]) {
      const entries = read(["[INFO] before", crash, "", "goroutine 1 [running]:", `{"@level":"info","@message":"json"}`])
      expect(entries.map((e) => e.level.label)).toEqual(["INFO", "ERROR", "ERROR", "ERROR", "ERROR"])
      expect(entries[4]!.message).toBe(`{"@level":"info","@message":"json"}`)
    }
    // The state is the reader's: a crash in one process's output says nothing of the next one's.
    const crashed = HclogLine.reader()
    crashed("panic: boom")
    expect([crashed("[INFO] after"), HclogLine.reader()("[INFO] after")].map((e) => e.level.label)).toEqual(["ERROR", "INFO"])
  })

  it("reads back what the SDK's hclog logger writes, level for level", () => {
    const date = new Date("2026-12-01T10:00:00.123Z")
    for (const level of [LogLevel.Trace, LogLevel.Debug, LogLevel.Info, LogLevel.Warning, LogLevel.Error]) {
      const [entry] = read([hclogLine("kv", level, ["two", "parts"], [["n", 1], ["big", 2n]], date)])
      expect(entry).toEqual({
        level,
        message: "two parts",
        fields: { module: "kv", timestamp: "2026-12-01T10:00:00.123000Z", n: 1, big: "2" }
      })
    }
  })

  it.effect("the SDK's hclog logger writes one JSON line per entry to stderr", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const write = process.stderr.write
      process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write
      yield* Effect.logWarning("careful").pipe(
        Effect.annotateLogs("key", "value"),
        Effect.provide(Logger.replace(Logger.defaultLogger, hclogLogger("kv"))),
        Effect.ensuring(Effect.sync(() => (process.stderr.write = write)))
      )
      expect(written).toHaveLength(1)
      expect(JSON.parse(written[0]!)).toMatchObject({ "@level": "warn", "@message": "careful", "@module": "kv", key: "value" })
    }))
})

describe("GoPluginSettings", () => {
  const decode = Schema.decodeUnknownEither(GoPluginSettings)

  it("fills the defaults: AutoMTLS on, no protos, 60 s handshake, 256 MiB receive limit", () => {
    expect(Either.getOrThrow(decode({ magic_cookie_key: "TF_PLUGIN_MAGIC_COOKIE", magic_cookie_value: "d602", protocol_versions: [6, 5] })))
      .toEqual({
        magicCookieKey: "TF_PLUGIN_MAGIC_COOKIE",
        magicCookieValue: "d602",
        protocolVersions: [6, 5],
        autoMtls: true,
        protoFiles: [],
        protoInclude: [],
        services: [],
        handshakeTimeout: Duration.seconds(60),
        maxReceiveBytes: 256 * 1024 * 1024
      })
  })

  it("reads handshake_timeout in seconds with the bounds of every config time, and encodes back to the TOML shape", () => {
    const base = { magic_cookie_key: "K", magic_cookie_value: "v", protocol_versions: [1] }
    const decoded = Either.getOrThrow(decode({ ...base, handshake_timeout: 1.5, auto_mtls: false, proto_files: ["kv.proto"] }))
    expect(Duration.toMillis(decoded.handshakeTimeout)).toBe(1500)
    expect(Schema.encodeSync(GoPluginSettings)(decoded)).toMatchObject({ ...base, handshake_timeout: 1.5, auto_mtls: false, proto_files: ["kv.proto"] })
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 3e6]) {
      const failed = decode({ ...base, handshake_timeout: bad })
      expect(Either.isLeft(failed) && String(failed.left)).toMatch(/expected (a number of seconds|a finite number|at most)/)
    }
  })

  it("resolvePaths makes proto_files and proto_include absolute against the config's folder, keeping absolute ones", () => {
    const decoded = Either.getOrThrow(decode({
      magic_cookie_key: "K",
      magic_cookie_value: "v",
      protocol_versions: [1],
      proto_files: ["protos/kv.proto", "/abs/x.proto"],
      proto_include: ["include"]
    }))
    const resolved = resolvePaths(decoded, "/etc/app")
    expect(resolved.protoFiles).toEqual(["/etc/app/protos/kv.proto", "/abs/x.proto"])
    expect(resolved.protoInclude).toEqual(["/etc/app/include"])
  })

  it("refuses a missing cookie, no versions, and versions that are not whole numbers above 0", () => {
    expect(Either.isLeft(decode({ magic_cookie_value: "v", protocol_versions: [1] }))).toBe(true)
    expect(Either.isLeft(decode({ magic_cookie_key: "K", magic_cookie_value: "v", protocol_versions: [] }))).toBe(true)
    const bad = decode({ magic_cookie_key: "K", magic_cookie_value: "v", protocol_versions: [0] })
    expect(Either.isLeft(bad) && String(bad.left)).toMatch(/protocol version: a whole number greater than 0/)
  })

  it("launchEnv sets the cookie, the versions, PLUGIN_CLIENT_CERT (empty without a certificate) and clears PLUGIN_MULTIPLEX_GRPC", () => {
    const settings = { magicCookieKey: "K", magicCookieValue: "v", protocolVersions: [6, 5] as const }
    expect(launchEnv(settings, undefined)).toEqual({ K: "v", PLUGIN_PROTOCOL_VERSIONS: "6,5", PLUGIN_CLIENT_CERT: "", PLUGIN_MULTIPLEX_GRPC: "" })
    expect(launchEnv(settings, "PEM")).toEqual({ K: "v", PLUGIN_PROTOCOL_VERSIONS: "6,5", PLUGIN_CLIENT_CERT: "PEM", PLUGIN_MULTIPLEX_GRPC: "" })
  })
})

describe("SelfSignedCertificate.generate", () => {
  it("follows go-plugin's template and verifies as its own root; two certificates never share a key or serial", () => {
    const now = new Date("2026-06-01T12:00:00Z")
    const first = generate(now)
    const cert = new crypto.X509Certificate(first.certificatePem)
    expect(cert.subject.split("\n").sort()).toEqual(["CN=localhost", "O=HashiCorp"])
    expect(cert.issuer).toBe(cert.subject)
    expect(cert.subjectAltName).toBe("DNS:localhost")
    expect(cert.ca).toBe(true)
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"])
    expect(cert.verify(cert.publicKey)).toBe(true)
    expect(cert.checkPrivateKey(crypto.createPrivateKey(first.privateKeyPem))).toBe(true)
    expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - 30_000)
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(2056)
    expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/)
    expect(Buffer.from(first.der).equals(cert.raw)).toBe(true)
    const second = generate(now)
    expect(new crypto.X509Certificate(second.certificatePem).serialNumber).not.toBe(cert.serialNumber)
    expect(second.privateKeyPem).not.toBe(first.privateKeyPem)
    expect(cert.verify(new crypto.X509Certificate(second.certificatePem).publicKey)).toBe(false)
  })

  it("uses UTCTime before 2050 and GeneralizedTime after (both parse back to the same instant)", () => {
    const early = new crypto.X509Certificate(generate(new Date("2019-01-01T00:00:00Z")).certificatePem)
    expect(new Date(early.validTo).getTime()).toBe(new Date("2019-01-01T00:00:00Z").getTime() + 262980 * 3600 * 1000)
    expect(new Date(early.validTo).getUTCFullYear()).toBe(2048)
  })
})
