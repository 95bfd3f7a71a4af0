/**
 * Remembers files whose checksum was verified, keyed on what changes when a file is replaced or
 * edited (device, inode, size, mtime, and ctime, which cannot be set back by hand), so a per-call
 * transport does not re-read an unchanged file.
 *
 * @internal
 */
import { Effect, HashSet, Ref } from "effect"
import * as fs from "node:fs/promises"
import type { ExpectedDigests } from "../Md5Checker.js"
import { Md5Checker } from "../Md5Checker.js"
import { type ChecksumMismatch, FileUnreadable } from "../PluginError.js"

/** A verifier that skips files already verified and unchanged since. */
export const makeVerifyCache = Effect.map(Ref.make(HashSet.empty<string>()), (verified) =>
  (
    plugin: string,
    file: string,
    expected: ExpectedDigests
  ): Effect.Effect<void, ChecksumMismatch | FileUnreadable, Md5Checker> =>
    Effect.gen(function*() {
      const stat = yield* Effect.tryPromise({
        try: () => fs.stat(file, { bigint: true }),
        catch: (error) => new FileUnreadable({ file, detail: (error as Error).message })
      })
      const key = [file, stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs, expected.md5, expected.sha256 ?? ""].join(":")
      if (HashSet.has(yield* Ref.get(verified), key)) return
      const checker = yield* Md5Checker
      yield* checker.verify(plugin, file, expected)
      yield* Ref.update(verified, HashSet.add(key))
    }))
