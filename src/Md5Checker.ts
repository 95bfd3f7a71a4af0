/**
 * Verifies plugin executables: streams a file through `node:crypto` and compares its digest with the
 * expected one in constant time. `sha256` is checked in the same pass when the config gives it.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { ChecksumMismatch, FileUnreadable } from "./PluginError.js"

/** A digest algorithm the config can name. */
export type Algorithm = "md5" | "sha256"

/** What a file must hash to; `sha256` is optional. */
export interface ExpectedDigests {
  readonly md5: string
  readonly sha256?: string | undefined
}

/** Streams a file once through one hash per algorithm and returns the lowercase hex digests. */
export const digestFile = <A extends Algorithm>(
  file: string,
  algorithms: ReadonlyArray<A>
): Effect.Effect<Record<A, string>, FileUnreadable> =>
  Effect.async<Record<A, string>, FileUnreadable>((resume) => {
    const hashes = algorithms.map((algorithm) => [algorithm, crypto.createHash(algorithm)] as const)
    const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024 })
    stream.on("data", (chunk) => {
      for (const [, hash] of hashes) hash.update(chunk)
    })
    stream.on("error", (error) => resume(Effect.fail(new FileUnreadable({ file, reason: error.message }))))
    stream.on("end", () => {
      const result = {} as Record<A, string>
      for (const [algorithm, hash] of hashes) result[algorithm] = hash.digest("hex")
      resume(Effect.succeed(result))
    })
    return Effect.sync(() => stream.destroy())
  })

/** Constant-time comparison of two hex digests (case-insensitive). */
export const sameDigest = (expected: string, actual: string): boolean => {
  const a = Buffer.from(expected.toLowerCase(), "hex")
  const b = Buffer.from(actual.toLowerCase(), "hex")
  return a.length === b.length && a.length > 0 && crypto.timingSafeEqual(a, b)
}

/** Computes and checks checksums of plugin files. */
export class Md5Checker extends Context.Tag("goplugin-effect/Md5Checker")<Md5Checker, {
  /** The lowercase hex digest of a file. */
  readonly digest: (file: string, algorithm?: Algorithm) => Effect.Effect<string, FileUnreadable>
  /** Fails with `ChecksumMismatch` unless the file matches every expected digest. */
  readonly verify: (
    plugin: string,
    file: string,
    expected: ExpectedDigests
  ) => Effect.Effect<void, ChecksumMismatch | FileUnreadable>
}>() {}

/** Checks every expected digest of one file, reading it once. */
export const verifyFile = Effect.fn("Md5Checker.verify")(function*(
  plugin: string,
  file: string,
  expected: ExpectedDigests
) {
  const algorithms: ReadonlyArray<Algorithm> = expected.sha256 === undefined ? ["md5"] : ["md5", "sha256"]
  const actual = yield* digestFile(file, algorithms)
  for (const algorithm of algorithms) {
    const want = algorithm === "md5" ? expected.md5 : expected.sha256!
    if (!sameDigest(want, actual[algorithm])) {
      return yield* new ChecksumMismatch({
        plugin,
        file,
        algorithm,
        expected: want.toLowerCase(),
        actual: actual[algorithm]
      })
    }
  }
})

/** The node:crypto implementation. */
export const layer: Layer.Layer<Md5Checker> = Layer.succeed(Md5Checker, {
  digest: (file, algorithm = "md5") =>
    Effect.map(digestFile(file, [algorithm]), (digests) => digests[algorithm]).pipe(
      Effect.withSpan("Md5Checker.digest", { attributes: { file, algorithm } })
    ),
  verify: verifyFile
})
