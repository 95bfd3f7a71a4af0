/**
 * Who owns a listening TCP port, from Linux's /proc: the socket inodes listening on the port
 * (/proc/net/tcp and tcp6) and the processes whose file descriptors hold them. Used so that no token,
 * Ping or payload goes to a listener outside the plugin's process group. Where /proc is missing, the
 * answers are `undefined` and the check is skipped (documented in docs/security.md).
 *
 * @internal
 */
import * as fs from "node:fs"

const LISTEN = "0A"

const IPV4 = ["/proc/net/tcp"]
const IPV6 = ["/proc/net/tcp6"]

/**
 * The inodes of sockets listening on `port` (any address), or `undefined` without /proc. Reading a
 * table costs milliseconds (the kernel walks its socket tables), so callers read only what they need.
 */
export const listeningInodes = (port: number, tables: ReadonlyArray<string> = [...IPV4, ...IPV6]): ReadonlySet<string> | undefined => {
  const inodes = new Set<string>()
  let readable = false
  for (const table of tables) {
    let text: string
    try {
      text = fs.readFileSync(table, "utf8")
      readable = true
    } catch {
      continue
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/)
      const local = fields[1]
      if (local === undefined || fields[3] !== LISTEN) continue
      if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port && fields[9] !== undefined) inodes.add(fields[9])
    }
  }
  return readable ? inodes : undefined
}

const numericEntries = (dir: string): ReadonlyArray<number> => {
  try {
    return fs.readdirSync(dir).filter((entry) => /^\d+$/.test(entry)).map(Number)
  } catch {
    return []
  }
}

/** The process group of a pid, or `undefined` when it is gone. */
const groupOf = (pid: number): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2])
  } catch {
    return undefined
  }
}

/** Whether `pid` has an open file descriptor on one of the socket inodes. */
const holdsAny = (pid: number, inodes: ReadonlySet<string>): boolean =>
  numericEntries(`/proc/${pid}/fd`).some((fd) => {
    try {
      const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
      return link.startsWith("socket:[") && inodes.has(link.slice(8, -1))
    } catch {
      return false
    }
  })

/** The processes of group `pgid`. */
export const groupMembers = (pgid: number): ReadonlyArray<number> =>
  numericEntries("/proc").filter((pid) => groupOf(pid) === pgid)

/** Some process outside group `pgid` holding one of the inodes, or `undefined` if none can be seen. */
export const holderOutside = (inodes: ReadonlySet<string>, pgid: number | undefined): number | undefined =>
  numericEntries("/proc").find((pid) => pid !== process.pid && groupOf(pid) !== pgid && holdsAny(pid, inodes))

/** Whether the group's leader, or else another process of the group, holds `inode`. */
const groupHolds = (pgid: number, inode: string, members: () => ReadonlyArray<number>): boolean =>
  holdsAny(pgid, new Set([inode])) || members().some((pid) => pid !== pgid && holdsAny(pid, new Set([inode])))

/**
 * Whether every listener on `port` belongs to process group `pgid`: `true`, `false`, or `undefined`
 * when it cannot be told (no /proc). A listener no process of the group holds is somebody else's.
 * IPv4 listeners are read first; the IPv6 table only when none listens there (a dual-stack squatter on
 * `[::]` and the plugin on 127.0.0.1 cannot both hold the port).
 */
export const ownedByGroup = (port: number, pgid: number): boolean | undefined => {
  const v4 = listeningInodes(port, IPV4)
  const inodes = v4 !== undefined && v4.size > 0 ? v4 : listeningInodes(port, IPV6)
  if (inodes === undefined) return v4 === undefined ? undefined : false
  if (inodes.size === 0) return false
  let members: ReadonlyArray<number> | undefined
  const lazyMembers = () => (members ??= groupMembers(pgid))
  return Array.from(inodes).every((inode) => groupHolds(pgid, inode, lazyMembers))
}
