/**
 * A one-time self-signed certificate for go-plugin's AutoMTLS, built as DER over `node:crypto`'s
 * signing (Node can sign and parse X.509 but not create it). The template is go-plugin's own
 * (mtls.go): CN and SAN `localhost`, O `HashiCorp`, CA, key usage digitalSignature|keyEncipherment|
 * keyAgreement|certSign, extended key usage clientAuth+serverAuth, random 128-bit serial, valid from 30 s
 * ago for 30 years; the key is ECDSA P-256 with SHA-256 signatures (Go plugins accept any ECDSA curve).
 *
 * @since 0.2.0
 */
import * as crypto from "node:crypto"

/** A certificate and its private key, PEM encoded, plus the certificate's DER. */
export interface CertificateAndKey {
  readonly certificatePem: string
  readonly privateKeyPem: string
  readonly der: Uint8Array
}

const length = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n])
  const bytes: Array<number> = []
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

const tlv = (tag: number, ...contents: ReadonlyArray<Buffer>): Buffer => {
  const body = Buffer.concat(contents)
  return Buffer.concat([Buffer.from([tag]), length(body.length), body])
}

const sequence = (...items: ReadonlyArray<Buffer>) => tlv(0x30, ...items)
const set = (...items: ReadonlyArray<Buffer>) => tlv(0x31, ...items)
const octets = (bytes: Buffer) => tlv(0x04, bytes)
const bits = (bytes: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), bytes)
const TRUE = tlv(0x01, Buffer.from([0xff]))
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"))

const oid = (dotted: string): Buffer => {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number)
  const bytes = [40 * a + b]
  for (const n of rest) {
    const chunk = [n & 0x7f]
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f))
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/** UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 4.1.2.5). */
const time = (date: Date): Buffer => {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z"
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), "ascii")) : tlv(0x18, Buffer.from(iso, "ascii"))
}

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  critical ? sequence(oid(id), TRUE, octets(value)) : sequence(oid(id), octets(value))

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"))
const NAME = sequence(
  set(sequence(oid("2.5.4.10"), utf8("HashiCorp"))),
  set(sequence(oid("2.5.4.3"), utf8("localhost")))
)
const YEARS_30_MS = 262980 * 3600 * 1000

/**
 * Makes a fresh key pair and self-signed certificate. `now` is a parameter so tests can pin validity.
 *
 * @since 0.2.0
 */
export const generate = (now: Date = new Date()): CertificateAndKey => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  const spki = publicKey.export({ type: "spki", format: "der" })
  const serial = crypto.randomBytes(16)
  // Positive and minimally encoded: top bit clear, first byte not zero.
  serial[0] = (serial[0]! & 0x7f) | 0x40
  const publicKeyBits = spki.subarray(spki.length - 65)
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ECDSA_WITH_SHA256,
    NAME,
    sequence(time(new Date(now.getTime() - 30_000)), time(new Date(now.getTime() + YEARS_30_MS))),
    NAME,
    spki,
    tlv(
      0xa3,
      sequence(
        // digitalSignature(0) keyEncipherment(2) keyAgreement(4) keyCertSign(5): 0b10101100, 2 unused bits.
        extension("2.5.29.15", true, bits(Buffer.from([0xac]), 2)),
        extension("2.5.29.37", false, sequence(oid("1.3.6.1.5.5.7.3.2"), oid("1.3.6.1.5.5.7.3.1"))),
        extension("2.5.29.19", true, sequence(TRUE)),
        extension("2.5.29.14", false, octets(crypto.createHash("sha1").update(publicKeyBits).digest())),
        extension("2.5.29.17", false, sequence(tlv(0x82, Buffer.from("localhost", "ascii"))))
      )
    )
  )
  const signature = crypto.sign("sha256", tbs, privateKey)
  const der = sequence(tbs, ECDSA_WITH_SHA256, bits(signature))
  return {
    certificatePem: derToPem(der),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    der: new Uint8Array(der)
  }
}

/**
 * A DER certificate as PEM (the form `PLUGIN_CLIENT_CERT` and TLS libraries take).
 *
 * @since 0.2.0
 */
export const derToPem = (der: Uint8Array): string => {
  const base64 = Buffer.from(der).toString("base64")
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`
}
