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

/** Asks for a free loopback port by binding port 0 and releasing it. */
export const freePort: Effect.Effect<number, string> = Effect.async<number, string>((resume) => {
  const server = net.createServer()
  server.unref()
  server.once("error", (error) => resume(Effect.fail(`cannot find a free port: ${error.message}`)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})
