/**
 * Custom metadata of a lean gRPC call (`x-host`, `authorization`, the pipeline's `x-goplugin-*`):
 * checked the way grpc-js and node:http check them, and HPACK-encoded as literals without indexing.
 *
 * @internal
 */
import { validHeaderValue } from "./headerValue.js"
import * as Hpack from "./hpack.js"

/** Metadata entries, lowercase names, in the order they are sent. */
export type Metadata = ReadonlyArray<readonly [string, string]>

/** gRPC's metadata key characters; `-bin` keys (base64 values) and reserved `grpc-` ones are not sent by this client. */
const NAME = /^[0-9a-z_.-]+$/

/** Why `metadata` cannot be sent as it is, naming the entry; undefined when it can. */
export const refusal = (metadata: Metadata): string | undefined => {
  for (const [name, value] of metadata) {
    if (!NAME.test(name) || name.endsWith("-bin") || name.startsWith("grpc-") || name === "te" || name === "content-type") {
      return `the metadata key ${JSON.stringify(name.slice(0, 80))} cannot be sent (lowercase letters, digits, "_", "." and "-" only; not a reserved or binary key)`
    }
    if (!validHeaderValue(value)) {
      return `the ${name} metadata value ${JSON.stringify(value.slice(0, 80))} cannot be sent (no CR, LF, NUL or character above 0xff)`
    }
  }
  return undefined
}

/** The header block fragment of checked `metadata` ({@link refusal} first). */
export const encode = (metadata: Metadata): Buffer =>
  metadata.length === 0 ? Buffer.alloc(0) : Buffer.concat(metadata.map(([name, value]) => Hpack.literal(name, value)))
