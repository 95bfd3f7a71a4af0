/**
 * What `goplugin ping | exec` do once their command line is parsed (callCommands.ts defines the
 * commands; this module is loaded when one of them runs, see handledBy.ts).
 *
 * @since 0.2.0
 */
import { Clock, Console, Effect, Either, Option } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { Caller } from "../Caller.js"
import type * as CallerFactory from "../CallerFactory.js"
import * as Host from "../Host.js"
import * as Executor from "../Executor.js"
import { FileUnreadable } from "../PluginError.js"
import { goPluginLayer, goPluginLayerWith } from "./libraryLayers.js"
import { OutputNotWritten, printJson, quietly, UsageError } from "./output.js"

/** What starting and calling a plugin observed. */
interface CallReport<A> {
  readonly protocol: string
  readonly pid: number | null
  readonly port: number | null
  readonly startMillis: number
  readonly millis: number
  readonly answer: A
}

/** What `goplugin call` adds to {@link withPlugin}. */
export interface WithPluginOptions<E> {
  /** Drivers replacing built-in ones (e.g. one that records the plugin's target). */
  readonly drivers?: ReadonlyArray<CallerFactory.DriverInput>
  /** Checks the entry's `comm_type` before the plugin is started. */
  readonly accepts?: (commType: string) => Effect.Effect<void, E>
}

/**
 * Starts `plugin` in a new container of `host`, runs `call` on its caller, and stops it (also used by
 * `goplugin call`): the scope
 * (and with it every process the call started) closes before this effect completes.
 */
export const withPlugin = <A, E, R = never>(
  host: string,
  plugin: string,
  call: (caller: Caller) => Effect.Effect<A, E, R>,
  options: WithPluginOptions<E> = {}
) =>
  Effect.gen(function*() {
    const begin = yield* Clock.currentTimeMillis
    const container = yield* quietly(Executor.fromHost(host))
    const entry = Host.lookup(container.installed, plugin)
    if (options.accepts !== undefined && Either.isRight(entry)) yield* options.accepts(entry.right.spec.commType)
    const caller = yield* container.run(plugin)
    const running = (yield* container.running).find((r) => r.name === plugin)
    const ready = yield* Clock.currentTimeMillis
    const answer = yield* call(caller)
    const done = yield* Clock.currentTimeMillis
    return {
      protocol: caller.protocol,
      pid: running?.process?.pid ?? null,
      port: running?.port ?? null,
      startMillis: ready - begin,
      millis: done - ready,
      answer
    } satisfies CallReport<A>
  }).pipe(Effect.scoped, Effect.provide(options.drivers === undefined ? goPluginLayer : goPluginLayerWith(options.drivers)))

/** `goplugin ping <host> <plugin>`. */
export const ping = ({ host, json, plugin }: { readonly host: string; readonly plugin: string; readonly json: boolean }) =>
  Effect.gen(function*() {
    const report = yield* withPlugin(host, plugin, (caller) => caller.ping)
    const { answer, ...rest } = report
    if (json) return yield* printJson({ host, plugin, ...rest, response: answer })
    yield* Console.log(
      `${answer} from ${plugin} (host ${host}, ${report.protocol}${report.pid === null ? "" : `, pid ${report.pid}`}): ` +
        `ready in ${report.startMillis} ms, ping took ${report.millis} ms; stopped`
    )
  })

const hexPattern = /^(?:[0-9a-fA-F]{2})*$/

const readInput = (file: string): Effect.Effect<Uint8Array, FileUnreadable> =>
  file === "-"
    ? Effect.tryPromise({
      try: async () => {
        const chunks: Array<Buffer> = []
        for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array))
        return new Uint8Array(Buffer.concat(chunks))
      },
      catch: (error) => new FileUnreadable({ file: "(stdin)", detail: String(error) })
    })
    : Effect.tryPromise({
      try: () => fs.readFile(file).then((buffer) => new Uint8Array(buffer)),
      catch: (error) => new FileUnreadable({ file: path.resolve(file), detail: error instanceof Error ? error.message : String(error) })
    })

/** The payload from at most one of `--data`, `--file`, `--hex`; empty when none is given. */
const payloadOf = (data: Option.Option<string>, file: Option.Option<string>, hex: Option.Option<string>) => {
  const given = [data, file, hex].filter(Option.isSome).length
  if (given > 1) {
    return Effect.fail(new UsageError({ message: "exec takes at most one of --data, --file and --hex; give the payload once" }))
  }
  if (Option.isSome(hex)) {
    return hexPattern.test(hex.value)
      ? Effect.succeed(new Uint8Array(Buffer.from(hex.value, "hex")))
      : Effect.fail(new UsageError({ message: `--hex "${hex.value}" is not hex bytes: use pairs of 0-9/a-f digits, e.g. --hex 68656c6c6f` }))
  }
  if (Option.isSome(file)) return readInput(file.value)
  return Effect.succeed(new TextEncoder().encode(Option.getOrElse(data, () => "")))
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** The answer as text when it is UTF-8 without control characters (other than tab and newlines), else undefined. */
export const printableText = (bytes: Uint8Array): string | undefined =>
  Either.try(() => strictUtf8.decode(bytes)).pipe(
    Either.getOrUndefined,
    (text) => (text === undefined || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text)
  )

const writeOutput = (file: string, bytes: Uint8Array): Effect.Effect<string, OutputNotWritten> => {
  const absolute = path.resolve(file)
  return Effect.tryPromise({
    try: () => fs.writeFile(absolute, bytes).then(() => absolute),
    catch: (error) =>
      new OutputNotWritten({
        message: `Cannot write the answer to ${absolute} (--out): ${error instanceof Error ? error.message : String(error)}. ` +
          `Pick a path in a folder you can write to.`
      })
  })
}

/** `goplugin exec <host> <plugin> <command>`. */
export const exec = (
  { command, data, file, hex, host, json, out, plugin }: {
    readonly host: string
    readonly plugin: string
    readonly command: string
    readonly data: Option.Option<string>
    readonly file: Option.Option<string>
    readonly hex: Option.Option<string>
    readonly out: Option.Option<string>
    readonly json: boolean
  }
) =>
  Effect.gen(function*() {
    const payload = yield* payloadOf(data, file, hex)
    const report = yield* withPlugin(host, plugin, (caller) => caller.exec(command, payload))
    const { answer, ...rest } = report
    const written = Option.isSome(out) ? yield* writeOutput(out.value, answer) : null
    const text = written === null ? printableText(answer) : undefined
    const encoding = written !== null ? null : text !== undefined ? "utf8" : "hex"
    const response = written !== null ? null : text ?? Buffer.from(answer).toString("hex")
    if (json) {
      return yield* printJson({ host, plugin, command, ...rest, bytes: answer.length, encoding, response, out: written })
    }
    if (written !== null) return yield* Console.log(`wrote ${answer.length} bytes to ${written}`)
    yield* Console.log((response ?? "").replace(/\n$/, ""))
    if (encoding === "hex") {
      yield* Console.error(`goplugin: note: the answer (${answer.length} bytes) is not text, so it is printed as hex; --out FILE writes the raw bytes`)
    }
  })
