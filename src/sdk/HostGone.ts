/**
 * Noticing that the host is gone, and leaving nothing behind then. The host keeps the plugin's stdin
 * open as long as it runs; end-of-file on it means the host closed it: either on a normal stop (it then
 * sends SIGTERM to the plugin's process group too, and kills what is left) or because it died (even by
 * SIGKILL, which closes its pipes). Only in the second case is nobody left to stop the plugin's own
 * children, so only then does the plugin SIGKILL its process group. "Died" is told apart by the plugin
 * being re-parented: its parent pid is no longer the host's. The host's pid comes from
 * `GOPLUGIN_HOST_PID`, not from `process.ppid` at load time, which is already 1 when the host died while
 * the plugin was still loading.
 *
 * @since 0.1.0
 */
import { fstatSync } from "node:fs"
import * as Effect from "effect/Effect"

/**
 * The host's pid: `GOPLUGIN_HOST_PID` when the host set it (every goplugin host does), else the parent
 * pid when the SDK was loaded (a plugin started by hand).
 */
const fromEnv = Number(process.env["GOPLUGIN_HOST_PID"])
const launcherPid = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : process.ppid

/** How long to wait, after stdin closed, for the re-parenting that shows the host died. */
const REPARENT_WAIT_MILLIS = 500

/** Whether stdin is a pipe or socket (the host's), as opposed to a terminal or /dev/null. */
export const stdinIsPipe = (): boolean => {
  try {
    const stat = fstatSync(0)
    return stat.isFIFO() || stat.isSocket()
  } catch {
    return false
  }
}

/** Completes when stdin reaches end-of-file (or fails): the host closed it, or is gone. */
export const stdinClosed: Effect.Effect<void> = Effect.async<void>((resume) => {
  const stdin = process.stdin
  const done = () => resume(Effect.void)
  stdin.once("end", done)
  stdin.once("close", done)
  stdin.once("error", done)
  stdin.resume()
  return Effect.sync(() => {
    stdin.off("end", done)
    stdin.off("close", done)
    stdin.off("error", done)
    stdin.pause()
  })
})

/**
 * Whether this process leads its own process group, so that signalling the group cannot reach the host
 * or anything else outside the plugin. A group whose id is our pid exists only if we lead it. Never true
 * for pid 1, where `kill(-1)` would mean every process.
 */
export const leadsOwnGroup = (): boolean => {
  if (process.pid <= 1) return false
  try {
    process.kill(-process.pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Whether the host that started the plugin has died, waiting up to `millis` for the kernel to
 * re-parent the plugin (a dying host closes its pipes a moment before its children are re-parented).
 */
const hostDied = (millis: number): Effect.Effect<boolean> => {
  const deadline = Date.now() + millis
  const poll: Effect.Effect<boolean> = Effect.suspend(() =>
    process.ppid !== launcherPid
      ? Effect.succeed(true)
      : Date.now() >= deadline
      ? Effect.succeed(false)
      : Effect.zipRight(Effect.sleep("5 millis"), poll)
  )
  return poll
}

const killGroup = (pid: number): void => {
  try {
    process.kill(-pid, "SIGKILL")
  } catch {
    // The group vanished in between: nothing left to stop.
  }
}

/**
 * Run once stdin closed and the server is closed. When the plugin leads its process group and its host
 * died, SIGKILLs the group, the plugin included, so that no child of the plugin outlives it. When the
 * host is alive (a normal stop: its SIGTERM usually interrupts this wait) the group is left to the host.
 */
export const leaveNoChildren: Effect.Effect<void> = Effect.suspend(() => {
  if (!leadsOwnGroup()) return Effect.void
  return Effect.flatMap(hostDied(REPARENT_WAIT_MILLIS), (died) =>
    died
      ? Effect.zipRight(
        Effect.logInfo(`the host (pid ${launcherPid}) died: killing process group ${process.pid} so no child outlives it`),
        Effect.sync(() => killGroup(process.pid))
      )
      : Effect.logInfo(`the host (pid ${launcherPid}) is still running: leaving process group ${process.pid} to it`))
})
