/**
 * A child process in a process group of its own, so that signalling the group reaches every
 * grandchild it started. Its output is read as lines by the process registry (see `outputLines`).
 *
 * @internal
 */
import { Deferred, Duration, Effect, Runtime } from "effect"
import { type ChildProcess, spawn } from "node:child_process"

/** How a process ended: exactly one of `code` and `signal` is set. */
export interface ExitInfo {
  readonly code: number | null
  readonly signal: string | null
}

/** A running process group led by `pid`. */
export interface GroupChild {
  readonly pid: number
  readonly child: ChildProcess
  readonly exit: Deferred.Deferred<ExitInfo>
  /** The exit status once the leader has exited. */
  readonly exited: () => ExitInfo | undefined
  /** With `collectStdout`: what the process wrote to stdout so far, and whether it passed the limit. */
  readonly collectedStdout: () => CollectedOutput
}

/** Bytes collected from stdout; `overflow` is set when the process wrote more than the limit. */
export interface CollectedOutput {
  readonly bytes: Uint8Array
  readonly overflow: boolean
}

/** What to start. */
export interface SpawnOptions {
  readonly exec: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  /**
   * Collect stdout as bytes (up to this many) instead of streaming it: it is the answer channel. A
   * process that writes more is killed at once, group and all: nothing it writes can be used.
   */
  readonly collectStdout?: number | undefined
}

/** Sends a signal to every process of the group; a group that is already gone is not an error. */
export const signalGroup = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    // ESRCH: the group has no process left, which is the state we want.
    return false
  }
}

/**
 * Starts `exec` as the leader of a new process group (via `detached`, which calls setsid), with stdin a
 * pipe the host keeps open. Fails with the operating system's reason when the process cannot start.
 * The child's `exit` event completes the exit Deferred through the runtime: the one callback bridge
 * between Node's process events and Effect.
 */
export const spawnGroup = (options: SpawnOptions): Effect.Effect<GroupChild, string> =>
  Effect.flatMap(Effect.zip(Deferred.make<ExitInfo>(), Effect.runtime<never>()), ([exit, runtime]) =>
    Effect.async<GroupChild, string>((resume) => {
      const complete = Runtime.runSync(runtime)
      let exitInfo: ExitInfo | undefined
      const child = spawn(options.exec, options.args, {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ["pipe", "pipe", "pipe"]
      })
      const collected: Array<Buffer> = []
      let collectedSize = 0
      let overflow = false
      const limit = options.collectStdout
      if (limit !== undefined) {
        child.stdout!.on("data", (chunk: Buffer) => {
          collectedSize += chunk.length
          if (collectedSize <= limit) return void collected.push(chunk)
          if (!overflow) {
            overflow = true
            signalGroup(child.pid!, "SIGKILL")
            child.stdout!.destroy()
          }
        })
      }
      // A plugin that exits without reading stdin makes our writes fail with EPIPE; its exit is reported instead.
      child.stdin!.on("error", () => {})
      child.on("exit", (code, signal) => {
        exitInfo = { code, signal }
        complete(Deferred.succeed(exit, exitInfo))
      })
      child.once("spawn", () =>
        resume(Effect.succeed({
          pid: child.pid!,
          child,
          exit,
          exited: () => exitInfo,
          collectedStdout: () => {
            const buffer = Buffer.concat(collected)
            return { bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), overflow }
          }
        })))
      child.once("error", (error) => {
        if (child.pid === undefined) resume(Effect.fail(error.message))
      })
    }))

/**
 * Waits until `event` has happened on the child (`happened` says whether it already has), or `millis`
 * have passed; answers which. Timer-based rather than interruption-based, so it also bounds waits
 * inside uninterruptible regions such as a stop.
 */
const within = (
  child: ChildProcess,
  event: "exit" | "close",
  happened: () => boolean,
  millis: number
): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    if (happened()) return resume(Effect.succeed(true))
    const onEvent = () => {
      clearTimeout(timer)
      resume(Effect.succeed(true))
    }
    const timer = setTimeout(() => {
      child.off(event, onEvent)
      resume(Effect.succeed(false))
    }, millis)
    child.once(event, onEvent)
    return Effect.sync(() => {
      clearTimeout(timer)
      child.off(event, onEvent)
    })
  })

/** Waits for the group leader's exit for at most `millis`; answers whether it exited. */
export const exitedWithin = (group: GroupChild, millis: number): Effect.Effect<boolean> =>
  within(group.child, "exit", () => group.exited() !== undefined, millis)

/** Asks the group to stop (stdin closed, SIGTERM to the group) without waiting: the first half of a stop. */
export const terminateGroup = (child: GroupChild): void => {
  if (child.exited() !== undefined) return
  child.child.stdin?.end()
  signalGroup(child.pid, "SIGTERM")
}

/**
 * Stops the group: end stdin and SIGTERM to the group, then SIGKILL after `grace`, then wait for the
 * leader's exit. Whatever remains in the group after the leader exits is killed: no grandchild outlives
 * its plugin. Uninterruptible, so a stop that has begun always finishes.
 */
export const stopGroup = (child: GroupChild, grace: Duration.DurationInput): Effect.Effect<ExitInfo> =>
  Effect.gen(function*() {
    if (child.exited() === undefined) {
      terminateGroup(child)
      const graceful = yield* exitedWithin(child, Duration.toMillis(grace))
      if (!graceful) {
        yield* Effect.logWarning(`pid ${child.pid} did not exit within ${Duration.format(grace)} of SIGTERM; sending SIGKILL`)
        signalGroup(child.pid, "SIGKILL")
      }
    }
    const info = yield* Deferred.await(child.exit)
    signalGroup(child.pid, "SIGKILL")
    child.child.stdout?.destroy()
    child.child.stderr?.destroy()
    return info
  }).pipe(Effect.uninterruptible)
