/**
 * Remembers files whose checksum was verified, so a start does not re-read an unchanged file. A file's
 * state is keyed on what the kernel changes when the file is replaced or edited: device and inode (a
 * new file, or one renamed over it), size, mtime, and ctime — which every write, truncate, rename,
 * chmod and `utimes` sets to the current time and which no system call can set back. The memory is
 * shared by every container of the process (one entry per file) and holds only facts about files.
 *
 * A verification is remembered only when the file's state did not change while it was read. What
 * this cannot see, like any stat-based check (git's "racily clean" entries): an edit made after the
 * check within the same tick of the file system's clock as the file's previous change (≤ 10 ms on
 * Linux's local file systems), which needs write access to the file — and with that, the race
 * between any check and the exec is open anyway (docs/security.md).
 *
 * @internal
 */
import { Effect, HashMap, Option, Ref } from "effect"
import * as fs from "node:fs"
import type { ExpectedDigests } from "../Md5Checker.js"
import { Md5Checker } from "../Md5Checker.js"
import { type ChecksumMismatch, FileUnreadable } from "../PluginError.js"

/** The last state of each file that passed, shared by every container of the process. */
const verified = Ref.unsafeMake(HashMap.empty<string, string>())

const stateOf = (stat: fs.BigIntStats, expected: ExpectedDigests): string =>
  [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs, expected.md5.toLowerCase(), expected.sha256?.toLowerCase() ?? ""].join(":")

/**
 * A synchronous stat: it runs right before the plugin is spawned, and `child_process.spawn` blocks the
 * event loop far longer (it forks the host); the asynchronous one waits for a libuv pool thread, which
 * on a busy 2-core machine put 0.4–0.7 ms on every start's critical path.
 */
const statOf = (file: string) =>
  Effect.try({
    try: () => fs.statSync(file, { bigint: true }),
    catch: (error) => new FileUnreadable({ file, detail: (error as Error).message })
  })

/** Verifies `file` unless it is already verified and unchanged since. */
export const verifyCached = (
  plugin: string,
  file: string,
  expected: ExpectedDigests
): Effect.Effect<void, ChecksumMismatch | FileUnreadable, Md5Checker> =>
  Effect.gen(function*() {
    const before = yield* statOf(file)
    const state = stateOf(before, expected)
    if (Option.contains(HashMap.get(yield* Ref.get(verified), file), state)) return
    const checker = yield* Md5Checker
    yield* checker.verify(plugin, file, expected)
    const after = yield* statOf(file)
    if (stateOf(after, expected) === state) {
      yield* Ref.update(verified, HashMap.set(file, state))
    }
  })
