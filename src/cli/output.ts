/**
 * How the goplugin command prints: human tables and JSON on stdout, one-line errors on stderr, and the
 * exit code each error maps to (the table in docs/cli.md).
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as Span from "@effect/cli/HelpDoc/Span"
import { Console, Context, Data, Effect, FiberRef, Logger, LogLevel } from "effect"

/** Exit codes of the goplugin command; docs/cli.md lists them. */
export const ExitCode = {
  ok: 0,
  /** An unexpected failure (a bug), or a file given with --out could not be written. */
  other: 1,
  /** Bad command line: unknown command, missing or malformed argument or option. */
  usage: 2,
  /** The config cannot be found or decoded, or names no such host or plugin, or the host may not use the plugin. */
  config: 3,
  /** A plugin cannot be verified: executable missing, checksum mismatch, unreadable file. */
  verify: 4,
  /** A plugin did not start or did not become ready. */
  start: 5,
  /** A ping or exec call failed. */
  call: 6,
  /** `register`: manifest missing or invalid, manifest checksum mismatch, conflict without --force, config not writable. */
  register: 7,
  /** `run`: the pipeline file is invalid or a step failed. */
  pipeline: 8,
  /** Stopped by Ctrl-C (SIGINT). */
  interrupted: 130,
  /** Stopped by SIGTERM. */
  terminated: 143
} as const

const codeByTag: Readonly<Record<string, number>> = {
  UsageError: ExitCode.usage,
  ContractNotFound: ExitCode.usage,
  ContractSchemaError: ExitCode.usage,
  ConfigNotFound: ExitCode.config,
  ConfigUnreadable: ExitCode.config,
  ConfigParseError: ExitCode.config,
  ConfigInvalid: ExitCode.config,
  HostNotFound: ExitCode.config,
  PluginNotFound: ExitCode.config,
  PluginNotAllowed: ExitCode.config,
  ExecutableNotFound: ExitCode.verify,
  ChecksumMismatch: ExitCode.verify,
  FileUnreadable: ExitCode.verify,
  CheckFailed: ExitCode.verify,
  PluginStartError: ExitCode.start,
  PortInUse: ExitCode.start,
  PluginNotReady: ExitCode.start,
  PluginExited: ExitCode.start,
  PluginAlreadyRunning: ExitCode.start,
  PluginNotRunning: ExitCode.start,
  UnsupportedProtocol: ExitCode.start,
  DriverFailed: ExitCode.start,
  CallError: ExitCode.call,
  ManifestNotFound: ExitCode.register,
  ManifestInvalid: ExitCode.register,
  ManifestChecksumMismatch: ExitCode.register,
  PluginConflict: ExitCode.register,
  ConfigWriteError: ExitCode.register,
  SubstitutionError: ExitCode.pipeline
}

/** The exit code of an error, by its tag; pipeline errors are 8, unknown tags 1. */
export const exitCodeOf = (tag: string): number =>
  codeByTag[tag] ?? (tag.startsWith("Pipeline") ? ExitCode.pipeline : ExitCode.other)

/** A command line the argument parser accepts but that makes no sense (e.g. two payload options). */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** A report was printed and listed problems (e.g. `config check`); this is its one-line summary. */
export class CheckFailed extends Data.TaggedError("CheckFailed")<{ readonly message: string; readonly problems: number }> {}

/** A file given with `--out` could not be written. */
export class OutputNotWritten extends Data.TaggedError("OutputNotWritten")<{ readonly message: string }> {}

/** A command failed; its one line was printed, only the exit code is left to set. */
export class ExitWith extends Data.TaggedError("ExitWith")<{ readonly code: number }> {}

/** The process's own console, for handlers; the argument parser writes to a capturing one instead. */
export class CliConsole extends Context.Tag("goplugin-effect/cli/CliConsole")<CliConsole, Console.Console>() {}

/** What every error of the library and the CLI has. */
export interface TaggedFailure {
  readonly _tag: string
  readonly message: string
}

/**
 * Collapses a message to one line: continuation lines (e.g. a plugin's last stderr lines) are joined
 * with " | "; a TOML excerpt under a syntax error is dropped (the line and column are in the message).
 */
export const oneLine = (message: string, tag = ""): string => {
  const [first = "", ...rest] = message.split("\n").map((line) => line.trim()).filter((line) => line !== "")
  if (rest.length === 0 || tag === "ConfigParseError") return first
  const [label = "", ...items] = rest
  return label.endsWith(":") ? `${first} ${label} ${items.join(" | ")}` : `${first} ${rest.join(" | ")}`
}

/** An error's fields other than its tag, for JSON. */
/** The error's fields; `cause` is left out: it is the library's evidence (a whole TOML excerpt, a system error), not an interface. */
const detailsOf = (error: TaggedFailure): Record<string, unknown> =>
  Object.fromEntries(Object.entries(error).filter(([key]) => key !== "_tag" && key !== "message" && key !== "cause"))

/** The JSON form of an error, as printed on stderr with `--json` and inside reports. */
export const errorJson = (error: TaggedFailure) => ({
  tag: error._tag,
  message: oneLine(error.message, error._tag),
  exitCode: exitCodeOf(error._tag),
  details: detailsOf(error)
})

/** Prints one JSON document on stdout (two-space indented; shapes in docs/cli.md). */
export const printJson = (value: unknown): Effect.Effect<void> => Console.log(JSON.stringify(value, null, 2))

/** Left-aligned columns, two spaces apart. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)))
  const render = (row: ReadonlyArray<string>) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")
  return [render(header), ...rows.map(render)].join("\n")
}

/**
 * Runs a command's body with the process's console. A failure prints one line on stderr (a JSON
 * object when `json` is set) and becomes `ExitWith` with the error's exit code.
 */
export const runCommand = <E extends TaggedFailure, R>(
  json: boolean,
  body: Effect.Effect<void, E, R>
): Effect.Effect<void, ExitWith, R | CliConsole> =>
  Effect.flatMap(CliConsole, (console) =>
    body.pipe(
      Effect.catchAll((error) => {
        const line = json ? JSON.stringify({ error: errorJson(error) }) : `goplugin: ${oneLine(error.message, error._tag)}`
        return Effect.zipRight(Console.error(line), Effect.fail(new ExitWith({ code: exitCodeOf(error._tag) })))
      }),
      Effect.withConsole(console)
    ))

/** Runs an effect with warnings hidden unless the user asked for more logs (`--log-level`). */
export const quietly = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(FiberRef.get(FiberRef.currentMinimumLogLevel), (level) =>
    LogLevel.greaterThanEqual(level, LogLevel.Warning) ? Logger.withMinimumLogLevel(effect, LogLevel.Error) : effect)

/** `--json`: print one JSON document instead of text. */
export const jsonOption = Options.boolean("json").pipe(
  Options.withDescription("Print one JSON document on stdout (shapes in docs/cli.md); errors become a JSON line on stderr.")
)

/**
 * A command's help: what it does, then examples. One paragraph, so that the command list of
 * `goplugin --help` shows it too.
 */
export const help = (description: string, examples: ReadonlyArray<string>): HelpDoc.HelpDoc =>
  HelpDoc.p(
    Span.spans([
      Span.text(description),
      Span.text(examples.length === 1 ? "\n\n  Example:" : "\n\n  Examples:"),
      ...examples.flatMap((example) => [Span.text("\n    "), Span.code(`$ ${example}`)])
    ])
  )

/** Whether the command line sets the log level (`--log-level`, a built-in option of @effect/cli). */
export const logLevelGiven: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)
