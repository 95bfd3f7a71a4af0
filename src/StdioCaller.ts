/**
 * The stdio driver: one process per call. Each call verifies the plugin's checksum (cached while the
 * file is unchanged), starts the plugin in its own process group, writes one JSON request line to its
 * stdin and closes it, and reads one JSend answer from its stdout once it exits. Every stderr line is
 * mirrored to the host's logger as it arrives, so the logs of a plugin that dies half-way are kept.
 *
 * `Container.run` does not start anything for stdio plugins and does not Ping them: a plugin that cannot
 * run fails its first call with a `CallError` naming why (checksum, start, exit status and stderr).
 * That keeps `run` free of a process start; call `caller.ping` yourself to fail early.
 *
 * @since 0.1.0
 */
import { Duration, Effect } from "effect"
import type { Caller, CallOptions, PipelineContext } from "./Caller.js"
import type { ProcessTarget, Transport } from "./Launcher.js"
import { callError, decodeAnswer, timeoutMillis } from "./internal/callResult.js"
import { callSpan } from "./internal/callSpan.js"
import { contextJson } from "./internal/pipelineContext.js"
import type { ExitInfo, PluginProcess } from "./ProcessRegistry.js"
import type { CallError } from "./PluginError.js"
import { type JSendAnswer, readJSend, toHex } from "./internal/wire.js"

type Operation = "ping" | "exec"

type Success = Extract<JSendAnswer, { readonly _tag: "Success" }>

const encoder = new TextEncoder()

/** How the process ended, in words: "exit code 7" or "killed by SIGKILL". */
const describeExit = (exit: ExitInfo): string =>
  exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code ?? "unknown"}`

const describeStderr = (lines: ReadonlyArray<string>): string =>
  lines.length === 0 ? "it wrote nothing to stderr" : `last stderr lines:\n  ${lines.join("\n  ")}`

const excerpt = (text: string): string => JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text)

/**
 * The request line of an exec call, keys in the order the wire contract shows them; a pipeline step's
 * call also carries its `"pipeline"` context last.
 */
export const execRequest = (host: string, command: string, payload: Uint8Array, pipeline?: PipelineContext): string =>
  `{"type":"exec","command":${JSON.stringify(command)},"payload":"${toHex(payload)}","host":${JSON.stringify(host)}` +
  (pipeline === undefined ? "}\n" : `,"pipeline":${contextJson(pipeline)}}\n`)

/** The request line of a ping call. */
export const pingRequest = `{"type":"ping"}\n`

/**
 * Reads the answer of a process that has exited: the JSend `data` (response string and unchecked
 * vars), or the `CallError` that says why there is none (exit status and stderr included whenever they
 * help).
 */
const readAnswer = (
  target: ProcessTarget,
  operation: Operation,
  command: string | undefined,
  process: PluginProcess,
  exit: ExitInfo,
  stderrLines: ReadonlyArray<string>
): Effect.Effect<Success, CallError> => {
  const fail = (reason: CallError["reason"], detail: string) =>
    Effect.fail(callError(target, operation, command, reason, detail))
  const status = describeExit(exit)
  const stderr = describeStderr(stderrLines)
  const exitedCleanly = exit.code === 0 && exit.signal === null
  const collected = process.collectedStdout()
  if (collected.overflow) {
    return fail(
      "too-large",
      `the plugin wrote more than the limit of ${target.maxResponseBytes} bytes on stdout (max_response_bytes) ` +
        `and was stopped at once (${status})`
    )
  }
  const text = Buffer.from(collected.bytes.buffer, collected.bytes.byteOffset, collected.bytes.byteLength).toString("utf8")
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    if (!exitedCleanly) {
      return fail("exited", `the process ended with ${status} without a valid answer on stdout; ${stderr}`)
    }
    return fail(
      "protocol",
      text.trim() === ""
        ? `the process exited 0 but wrote no answer on stdout; ${stderr}`
        : `stdout is not a JSON answer: ${excerpt(text)}; ${stderr}`
    )
  }
  const answer = readJSend(parsed)
  if (typeof answer === "string") {
    return exitedCleanly
      ? fail("protocol", `the answer on stdout is not JSend: ${answer}; ${stderr}`)
      : fail("exited", `the process ended with ${status} and its stdout is not JSend (${answer}); ${stderr}`)
  }
  if (answer._tag === "Failure") return fail("remote", `${answer.message} (${status})`)
  if (!exitedCleanly) {
    return fail("exited", `the process answered success but ended with ${status}; ${stderr}`)
  }
  return Effect.succeed(answer)
}

/**
 * One call: verify, start, send the request, wait for the exit within the time limit, read the answer.
 * The process lives in a scope of this call only, so it is stopped (process group included) on every
 * way out: answer, failure, timeout or interruption.
 */
const call = (
  target: ProcessTarget,
  operation: Operation,
  command: string | undefined,
  request: string,
  limitMillis: number
): Effect.Effect<Success, CallError> =>
  Effect.scoped(
    Effect.gen(function*() {
      yield* Effect.mapError(target.verify, (error) => callError(target, operation, command, "refused", error.message))
      const process = yield* Effect.mapError(
        target.start({ collectStdout: target.maxResponseBytes }),
        (error) => callError(target, operation, command, "refused", error.message)
      )
      yield* process.send(encoder.encode(request))
      const exit = yield* process.awaitExit.pipe(
        Effect.timeout(Duration.millis(limitMillis)),
        Effect.catchTag("TimeoutException", () =>
          Effect.flatMap(process.stderrTail, (lines) =>
            Effect.fail(callError(
              target,
              operation,
              command,
              "timeout",
              `no answer within ${limitMillis} ms; process ${process.pid} and its process group were killed; ` +
                describeStderr(lines)
            ))))
      )
      return yield* readAnswer(target, operation, command, process, exit, yield* process.stderrTail)
    })
  )

/** Creates a stdio caller; it holds no resources between calls. */
export const make = (target: ProcessTarget): Effect.Effect<Caller> =>
  Effect.sync((): Caller => ({
    host: target.host,
    plugin: target.plugin,
    protocol: "stdio",
    ping: Effect.suspend(() => call(target, "ping", undefined, pingRequest, timeoutMillis(target))).pipe(
      Effect.map((answer) => answer.response),
      callSpan(target.traceCalls, "Caller.ping", { plugin: target.plugin, protocol: "stdio" })
    ),
    exec: (command: string, payload: Uint8Array, options?: CallOptions) =>
      Effect.suspend(() =>
        Effect.flatMap(
          call(target, "exec", command, execRequest(target.host, command, payload, options?.pipeline), timeoutMillis(target, options)),
          (answer) =>
            Effect.tap(decodeAnswer(target, command, "data.response")(answer.response), () => {
              if (answer.vars !== undefined) options?.onVars?.(answer.vars)
            })
        )
      ).pipe(callSpan(target.traceCalls, "Caller.exec", { plugin: target.plugin, command, protocol: "stdio" }))
  }))

/**
 * The stdio transport: one short-lived process per call.
 *
 * @since 0.2.0
 */
export const transport: Transport<ProcessTarget> = { protocol: "stdio", make }
