/**
 * The orphan guard: no plugin outlives its host, even when the host dies by SIGKILL and the plugin
 * ignores stdin and signals. One small POSIX `sh` process per process registry holds a pipe from the
 * host and a list of the plugins' process groups (each with its leader's start time). The host adds a
 * group when it starts a plugin and removes it once the plugin is stopped; the guard reads the start
 * time from /proc itself, so a start costs the host one pipe write and no /proc read (which can block
 * for milliseconds while the new process's runtime starts its threads). When the pipe reaches
 * end-of-file (the host closed it, or died and the kernel closed it) the guard SIGKILLs every group
 * still listed and exits; on a normal shutdown the list is empty by then, so it just exits.
 *
 * A group is killed only if it is still the plugin's: when a process with the group's id exists, its
 * start time must be the recorded one (a reused pid is left alone); when none exists, the group is the
 * plugin's leftovers (a group id cannot be reused while any process is in the group).
 *
 * @internal
 */
import { Effect, type Scope } from "effect"
import { spawn } from "node:child_process"

const SCRIPT = `
trap '' INT TERM HUP PIPE
# start_of PGID: sets start to the start time of process PGID (field 22 of its stat), "-" when unreadable.
start_of() {
  start=-
  if [ -r "/proc/$1/stat" ]; then
    stat=""; read -r stat < "/proc/$1/stat"
    set -- \${stat##*) }
    if [ $# -ge 20 ]; then shift 19; start=$1; fi
  fi
}
groups=""
while read -r op pgid; do
  case "$op" in
    add) start_of "$pgid"; groups="$groups $pgid:$start" ;;
    del) kept=""; for g in $groups; do [ "\${g%%:*}" = "$pgid" ] || kept="$kept $g"; done; groups="$kept" ;;
  esac
done
for g in $groups; do
  pgid=\${g%%:*}; recorded=\${g#*:}
  if [ "$recorded" != "-" ]; then
    start_of "$pgid"
    [ "$start" = "-" ] || [ "$start" = "$recorded" ] || continue
  fi
  kill -KILL -"$pgid" 2>/dev/null
done
`

/** What the registry tells the guard. */
export interface OrphanGuard {
  /** The guard's own pid (for tests and the bench). */
  readonly pid: number
  /** Lists a plugin's process group. */
  readonly watch: (pgid: number) => Effect.Effect<void>
  /** Removes a group once its plugin is stopped. */
  readonly unwatch: (pgid: number) => Effect.Effect<void>
}

/**
 * Starts the guard for the current scope: closing the scope closes its pipe, and the guard exits
 * after killing whatever is still listed. Fails with the reason when `sh` cannot start.
 */
export const make: Effect.Effect<OrphanGuard, string, Scope.Scope> = Effect.acquireRelease(
  Effect.async<ReturnType<typeof spawn>, string>((resume) => {
    // Its own process group, so a Ctrl-C meant for the host's terminal group does not reach it first.
    const child = spawn("/bin/sh", ["-c", SCRIPT], { detached: true, stdio: ["pipe", "ignore", "ignore"] })
    child.stdin!.on("error", () => {})
    child.once("spawn", () => resume(Effect.succeed(child)))
    child.once("error", (error) => resume(Effect.fail(`cannot start the orphan guard (/bin/sh): ${error.message}`)))
  }),
  (child) =>
    Effect.async<void>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      child.once("exit", () => resume(Effect.void))
      child.stdin!.end()
    })
).pipe(Effect.map((child): OrphanGuard => {
  const send = (line: string) => Effect.sync(() => void child.stdin!.write(line))
  return {
    pid: child.pid!,
    watch: (pgid) => send(`add ${pgid}\n`),
    unwatch: (pgid) => send(`del ${pgid}\n`)
  }
}))
