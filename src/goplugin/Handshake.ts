/**
 * The first line a go-plugin plugin prints on stdout, `CORE|APP|NETWORK|ADDR|PROTOCOL|CERT[|MUX]`:
 * parsed on the host side (checked against the versions the host offered) and written on the SDK side.
 *
 * @since 0.2.0
 */
import * as Either from "effect/Either"
import { HandshakeError } from "./GoPluginError.js"

/** go-plugin's core protocol version: the only one there is. */
export const CORE_PROTOCOL_VERSION = 1

/**
 * A usable handshake: a gRPC server at `address`, speaking application protocol `appVersion`, with
 * the plugin's DER certificate when it does AutoMTLS.
 *
 * @since 0.2.0
 */
export interface Handshake {
  readonly appVersion: number
  readonly network: "unix" | "tcp"
  readonly address: string
  /** The plugin's leaf certificate (DER) under AutoMTLS; absent when the CERT field is empty. */
  readonly certificate: Uint8Array | undefined
  /** The plugin announced yamux multiplexing (7th field `true`). */
  readonly multiplexed: boolean
}

/** Who is being parsed, for the error. */
export interface HandshakeContext {
  readonly host: string
  readonly plugin: string
  /** The application protocol versions the host offered in `PLUGIN_PROTOCOL_VERSIONS`. */
  readonly offered: ReadonlyArray<number>
}

const RAW_BASE64 = /^[A-Za-z0-9+/]*$/
const DECIMAL = /^\d+$/

/**
 * go-plugin's host reads the CERT field only when it is longer than this ("rules out catching the
 * unused extra data returned from some older implementations", client.go); a DER certificate is longer.
 *
 * @since 0.2.0
 */
export const MIN_CERTIFICATE_FIELD = 50

/** The spellings Go's `strconv.ParseBool` accepts, which go-plugin uses to read the 7th field. */
const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"])
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"])

/**
 * Reads a handshake line. Refuses, with the reason: fewer than 4 or more than 7 fields, a core version
 * other than 1, an application version the host did not offer, a network other than unix/tcp, an empty
 * address, `netrpc` (or no protocol, which means netrpc), a CERT that is not unpadded standard base64,
 * and a 7th field that is not a Go boolean, or is true (yamux multiplexing). As go-plugin's own host
 * (1.0.1 to main), a CERT of {@link MIN_CERTIFICATE_FIELD} characters or fewer is not a certificate
 * but the unused extra data of older plugins, and is ignored.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * parse("1|3|unix|/tmp/plugin123|grpc|", { host: "app", plugin: "kv", offered: [3] })
 * // Either.right({ appVersion: 3, network: "unix", address: "/tmp/plugin123", certificate: undefined, multiplexed: false })
 * ```
 */
export const parse = (line: string, context: HandshakeContext): Either.Either<Handshake, HandshakeError> => {
  const trimmed = line.trim()
  const refuse = (problem: string) =>
    Either.left(new HandshakeError({ host: context.host, plugin: context.plugin, line: trimmed, problem }))
  const parts = trimmed.split("|")
  if (trimmed === "" || parts.length < 4) {
    return refuse(`expected at least 4 fields separated by "|", got ${trimmed === "" ? 0 : parts.length}`)
  }
  if (parts.length > 7) return refuse(`expected at most 7 fields, got ${parts.length} (unknown fields after MUX)`)
  const [core, app, network, address, protocol = "netrpc", cert = "", mux] = parts as [string, string, string, string, ...Array<string>]
  if (core !== String(CORE_PROTOCOL_VERSION)) {
    return refuse(`core protocol version is ${JSON.stringify(core)}, expected ${CORE_PROTOCOL_VERSION}`)
  }
  if (!DECIMAL.test(app)) return refuse(`application protocol version ${JSON.stringify(app)} is not a number`)
  const appVersion = Number(app)
  if (!context.offered.includes(appVersion)) {
    return refuse(
      `the plugin speaks application protocol version ${appVersion}, but the host offered ` +
        `${context.offered.join(", ")} (protocol_versions); use a plugin build for one of those, or add ${appVersion}`
    )
  }
  if (network !== "unix" && network !== "tcp") return refuse(`network ${JSON.stringify(network)} is neither unix nor tcp`)
  if (address === "") return refuse("the address is empty")
  if (protocol === "netrpc" || protocol === "") {
    return refuse("the plugin speaks netrpc (Go's net/rpc over yamux), which only Go hosts can use; only grpc plugins are supported")
  }
  if (protocol !== "grpc") return refuse(`protocol ${JSON.stringify(protocol)} is unknown, expected grpc`)
  const hasCertificate = cert.length > MIN_CERTIFICATE_FIELD
  if (hasCertificate && (!RAW_BASE64.test(cert) || cert.length % 4 === 1)) {
    return refuse("the CERT field is not a certificate in unpadded standard base64")
  }
  if (mux !== undefined && !GO_TRUE.has(mux) && !GO_FALSE.has(mux)) {
    return refuse(`the multiplexing field is ${JSON.stringify(mux)}, expected true or false`)
  }
  if (mux !== undefined && GO_TRUE.has(mux)) {
    return refuse(
      "the plugin multiplexes connections over yamux (go-plugin >= 1.6 does when PLUGIN_MULTIPLEX_GRPC is set in its " +
        "environment), which this host does not support; the host clears that variable, so check the plugin's wrapper"
    )
  }
  return Either.right({
    appVersion,
    network,
    address,
    certificate: hasCertificate ? new Uint8Array(Buffer.from(cert, "base64")) : undefined,
    multiplexed: false
  })
}

/**
 * The line a plugin prints: `1|APP|unix|ADDR|grpc|CERT`, CERT being the DER certificate in unpadded
 * standard base64 (empty without AutoMTLS). `multiplexing` adds the 7th field, which only a host that
 * set `PLUGIN_MULTIPLEX_GRPC` reads (older hosts split the line in 6 and would take it for part of CERT).
 *
 * @since 0.2.0
 */
export const format = (
  handshake: Pick<Handshake, "appVersion" | "network" | "address" | "certificate">,
  multiplexing?: boolean | undefined
): string =>
  [
    CORE_PROTOCOL_VERSION,
    handshake.appVersion,
    handshake.network,
    handshake.address,
    "grpc",
    handshake.certificate === undefined ? "" : Buffer.from(handshake.certificate).toString("base64").replace(/=+$/, ""),
    ...(multiplexing === undefined ? [] : [String(multiplexing)])
  ].join("|")

/**
 * The version a plugin serves given the host's `PLUGIN_PROTOCOL_VERSIONS` (comma separated) and the
 * versions it supports: the highest common one, else its lowest (go-plugin's rule; the host then refuses).
 *
 * @since 0.2.0
 */
export const negotiate = (offered: string | undefined, supported: ReadonlyArray<number>): number => {
  const asked = (offered ?? "").split(",").map((s) => Number(s.trim())).filter(Number.isInteger)
  const sorted = [...supported].sort((a, b) => b - a)
  return sorted.find((v) => asked.includes(v)) ?? sorted[sorted.length - 1] ?? 1
}
