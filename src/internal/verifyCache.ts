/**
 * Remembers files whose checksum was verified, so a start does not re-read an unchanged file. A file's
 * state is keyed on what the kernel changes when the file is replaced or edited: device and inode (a
 * new file, or one renamed over it), size, mtime, and ctime — which every write, truncate, rename,
 * chmod and `utimes` sets to the current time and which no system call can set back. The memory is
 * shared by every container of the process (one entry per file) and holds only facts about files.
 *
 * A verification is remembered only when the file's ctime is at least {@link SETTLED_NANOS} older than
 * the moment the check began and did not change while the file was read: a later edit then carries a
 * later ctime even on file systems whose timestamps tick coarsely, so it cannot look unchanged.
 *
 * @internal
 */
import { Effect, HashMap, Option, Ref } from "effect"
import type { BigIntStats } from "node:fs"
import * as fs from "node:fs/promises"
import type { ExpectedDigests } from "../Md5Checker.js"
import { Md5Checker } from "../Md5Checker.js"
import { type ChecksumMismatch, FileUnreadable } from "../PluginError.js"

/** How old a file's last change must be for its verification to be remembered (covers 2 s FAT-like clocks). */
export const SETTLED_NANOS = 3_000_000_000n

/** The last state of each file that passed, shared by every container of the process. */
const verified = Ref.unsafeMake(HashMap.empty<string, string>())

const stateOf = (stat: BigIntStats, expected: ExpectedDigests): string =>
  [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs, expected.md5.toLowerCase(), expected.sha256?.toLowerCase() ?? ""].join(":")

const statOf = (file: string) =>
  Effect.tryPromise({
    try: () => fs.stat(file, { bigint: true }),
    catch: (error) => new FileUnreadable({ file, detail: (error as Error).message })
  })

/** A verifier that skips files already verified and unchanged since. */
export const makeVerifyCache = Effect.succeed((
  plugin: string,
  file: string,
  expected: ExpectedDigests
): Effect.Effect<void, ChecksumMismatch | FileUnreadable, Md5Checker> =>
  Effect.gen(function*() {
    // Wall-clock time on purpose: it is compared with the file system's timestamps, not Effect's Clock.
    const began = BigInt(Date.now()) * 1_000_000n
    const before = yield* statOf(file)
    const state = stateOf(before, expected)
    if (Option.contains(HashMap.get(yield* Ref.get(verified), file), state)) return
    const checker = yield* Md5Checker
    yield* checker.verify(plugin, file, expected)
    const after = yield* statOf(file)
    if (stateOf(after, expected) === state && before.ctimeNs <= began - SETTLED_NANOS) {
      yield* Ref.update(verified, HashMap.set(file, state))
    }
  }))
