/**
 * Readiness of a freshly started plugin: first its port accepts a connection, then a Ping succeeds.
 * Both are polled every few milliseconds, so a plugin ready after 40 ms is used after ~40 ms.
 *
 * @internal
 */
import { Effect, Schedule } from "effect"
import * as net from "node:net"

/** One attempt to open a TCP connection to the loopback port; succeeds once something listens. */
const tryConnect = (port: number): Effect.Effect<void, string> =>
  Effect.async<void, string>((resume) => {
    const socket = net.connect({ port, host: "127.0.0.1" })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.void)
    })
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy()
      resume(Effect.fail(`port ${port}: ${error.code ?? error.message}`))
    })
    return Effect.sync(() => socket.destroy())
  })

/** How often readiness is polled; small because a refused loopback connection costs microseconds. */
export const pollInterval = Schedule.spaced("2 millis")

/** Waits until the port accepts connections, recording the last failure in `onError`. */
export const awaitPort = (port: number, onError: (reason: string) => void): Effect.Effect<void> =>
  tryConnect(port).pipe(
    Effect.tapError((reason) => Effect.sync(() => onError(reason))),
    Effect.retry(pollInterval),
    Effect.orDie
  )

/** Ports handed out recently, with when: a port is not handed out twice while its plugin may still be starting. */
const recentlyHandedOut = new Map<number, number>()
const REUSE_AFTER_MILLIS = 60_000

const bindEphemeral: Effect.Effect<number, string> = Effect.async<number, string>((resume) => {
  const server = net.createServer()
  server.unref()
  server.once("error", (error) => resume(Effect.fail(`cannot find a free port: ${error.message}`)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * Asks the kernel for a free loopback port (bind port 0, release it). Two plugins started at the same
 * moment could otherwise be told the same port, so a port handed out in the last minute is skipped.
 */
export const freePort: Effect.Effect<number, string> = Effect.gen(function*() {
  const now = Date.now()
  for (const [port, at] of recentlyHandedOut) if (now - at > REUSE_AFTER_MILLIS) recentlyHandedOut.delete(port)
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = yield* bindEphemeral
    if (!recentlyHandedOut.has(port)) {
      recentlyHandedOut.set(port, now)
      return port
    }
  }
  return yield* Effect.fail("cannot find a free port: the kernel kept offering ports already handed out")
})
