/**
 * Verifies plugin executables: streams a file through `node:crypto` and compares its digest with the
 * expected one in constant time. `sha256` is checked in the same pass when the config gives it.
 *
 * It reads with `node:fs` file handles rather than `@effect/platform`'s `FileSystem` on purpose: hashing
 * is on the start path of every plugin, and reusing two buffers with the next read already under way
 * keeps it near `md5sum`'s speed (see {@link digestFile} and `npm run bench`), which a generic file
 * stream does not.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import * as crypto from "node:crypto"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import { ChecksumMismatch, FileUnreadable } from "./PluginError.js"

/** A digest algorithm the config can name. */
export type Algorithm = "md5" | "sha256"

/** What a file must hash to; `sha256` is optional. */
export interface ExpectedDigests {
  readonly md5: string
  readonly sha256?: string | undefined
}

const CHUNK = 1024 * 1024

/**
 * Reads a file once through one hash per algorithm and returns the lowercase hex digests. Two buffers
 * are reused in turn and the next read is already under way while the current chunk is hashed, so
 * hashing and I/O overlap and no buffer is allocated per chunk (a read stream does both, and runs
 * about a quarter slower than `md5sum`).
 */
export const digestFile = <A extends Algorithm>(
  file: string,
  algorithms: ReadonlyArray<A>
): Effect.Effect<Record<A, string>, FileUnreadable> =>
  Effect.tryPromise({
    try: async () => {
      const hashes = algorithms.map((algorithm) => [algorithm, crypto.createHash(algorithm)] as const)
      const handle = await fsp.open(file, "r")
      try {
        let filling = Buffer.allocUnsafe(CHUNK)
        let spare = Buffer.allocUnsafe(CHUNK)
        let pending = handle.read(filling, 0, CHUNK, null)
        while (true) {
          const { bytesRead } = await pending
          if (bytesRead === 0) break
          const chunk = filling.subarray(0, bytesRead)
          ;[filling, spare] = [spare, filling]
          pending = handle.read(filling, 0, CHUNK, null)
          for (const [, hash] of hashes) hash.update(chunk)
        }
      } finally {
        await handle.close()
      }
      const result = {} as Record<A, string>
      for (const [algorithm, hash] of hashes) result[algorithm] = hash.digest("hex")
      return result
    },
    catch: (error) => new FileUnreadable({ file, detail: (error as Error).message })
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

/** The folder beside (or just above) a plugin file that holds a goplugin.toml manifest, if any. */
const manifestDirNear = (file: string): Effect.Effect<string | undefined> =>
  Effect.promise(async () => {
    for (const dir of [path.dirname(file), path.dirname(path.dirname(file))]) {
      if (await fsp.access(path.join(dir, "goplugin.toml")).then(() => true, () => false)) return dir
    }
    return undefined
  })

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
      const manifestDir = yield* manifestDirNear(file)
      return yield* new ChecksumMismatch({
        plugin,
        file,
        algorithm,
        expected: want.toLowerCase(),
        actual: actual[algorithm],
        ...(manifestDir === undefined ? {} : { manifestDir })
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
