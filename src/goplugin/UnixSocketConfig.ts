/**
 * go-plugin's `UnixSocketConfig` (≥ 1.5) as a plugin reads it from its environment:
 * `PLUGIN_UNIX_SOCKET_DIR`, the folder to create its sockets in (a Go host that runs plugins through a
 * `RunnerFunc`, e.g. in a container, creates that folder and shares it), and `PLUGIN_UNIX_SOCKET_GROUP`,
 * a group (gid or name) that must own the sockets, group-writable (0660), so a host running as another
 * user of that group can connect. Both apply to the plugin's main socket and to its brokered ones.
 *
 * @since 0.2.0
 */
import { Effect, Either } from "effect"
import * as fs from "node:fs"

/** The folder variable. */
export const ENV_DIR = "PLUGIN_UNIX_SOCKET_DIR"
/** The group variable. */
export const ENV_GROUP = "PLUGIN_UNIX_SOCKET_GROUP"

/** go-plugin's mode for a socket shared with a group. */
export const GROUP_SOCKET_MODE = 0o660

/**
 * Where a plugin's sockets go and who may use them; `undefined` is go-plugin's default (the system's
 * temporary folder, owner only).
 *
 * @since 0.2.0
 */
export interface UnixSocketConfig {
  readonly dir: string | undefined
  readonly group: string | undefined
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value)

/**
 * The config a host asked for (an empty variable counts as unset, as in go-plugin).
 *
 * @since 0.2.0
 */
export const fromEnv = (env: Readonly<Record<string, string | undefined>>): UnixSocketConfig => ({
  dir: nonEmpty(env[ENV_DIR]),
  group: nonEmpty(env[ENV_GROUP])
})

/**
 * The gid of `group`: a number is a gid (as go-plugin's `strconv.Atoi` first try), anything else a name
 * looked up in `etcGroup` (the text of /etc/group, as Go's pure-Go `user.LookupGroup` does).
 *
 * @since 0.2.0
 */
export const groupId = (group: string, etcGroup: string): Either.Either<number, string> => {
  if (/^\d+$/.test(group)) return Either.right(Number(group))
  for (const line of etcGroup.split("\n")) {
    const [name, , gid] = line.split(":")
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Either.right(Number(gid))
  }
  return Either.left(`no group ${JSON.stringify(group)} in /etc/group`)
}

/**
 * The gid to give sockets, if any; fails with why the group cannot be used.
 *
 * @since 0.2.0
 */
export const resolveGroup = (config: UnixSocketConfig): Effect.Effect<number | undefined, string> => {
  const group = config.group
  if (group === undefined) return Effect.succeed(undefined)
  if (/^\d+$/.test(group)) return Effect.succeed(Number(group))
  return Effect.try({
    try: () => fs.readFileSync("/etc/group", "utf8"),
    catch: (error) => `cannot read /etc/group to find group ${JSON.stringify(group)}: ${String(error)}`
  }).pipe(Effect.flatMap((text) => Either.match(groupId(group, text), { onLeft: Effect.fail, onRight: Effect.succeed })))
}

/**
 * Gives a socket file to `gid`, readable and writable by the group (go-plugin's `setGroupWritable`).
 *
 * @since 0.2.0
 */
export const shareWithGroup = (socket: string, gid: number): Effect.Effect<void, string> =>
  Effect.try({
    try: () => {
      fs.chownSync(socket, -1, gid)
      fs.chmodSync(socket, GROUP_SOCKET_MODE)
    },
    catch: (error) => `cannot give ${socket} to group ${gid} (${ENV_GROUP}): ${error instanceof Error ? error.message : String(error)}`
  })
