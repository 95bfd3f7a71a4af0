/**
 * Plugin lines become one log entry each, at the plugin's own level: the parser on its own (no
 * processes), the host log format, and `[settings] log_level` through `GoPlugin.layer`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, HashMap, Layer, List, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as GoPlugin from "../src/GoPlugin.js"
import * as HostLogger from "../src/HostLogger.js"
import { logPluginLine, parsePluginLogLine } from "../src/internal/pluginLogLine.js"
import { tempDir } from "./helpers.js"

describe("parsePluginLogLine", () => {
  const cases: ReadonlyArray<readonly [string, LogLevel.LogLevel, string]> = [
    ["INFO listening on 127.0.0.1:37447 (rest)", LogLevel.Info, "listening on 127.0.0.1:37447 (rest)"],
    ["WARN slow disk", LogLevel.Warning, "slow disk"],
    ["WARNING: slow disk", LogLevel.Warning, "slow disk"],
    ["ERROR disk full", LogLevel.Error, "disk full"],
    ["DEBUG cache miss key=a", LogLevel.Debug, "cache miss key=a"],
    ["error: bad input", LogLevel.Error, "bad input"],
    ["[INFO] ready", LogLevel.Info, "ready"],
    ["[warn]  low memory", LogLevel.Warning, "low memory"],
    ["2024-05-01T10:00:00.123Z [ERROR] plugin: boom: code=3", LogLevel.Error, "plugin: boom: code=3"],
    ["2024-05-01 10:00:00,123 WARNING retrying", LogLevel.Warning, "retrying"],
    ["error handling is done", LogLevel.Info, "error handling is done"],
    ["INFORMATIVE text", LogLevel.Info, "INFORMATIVE text"],
    ["[1/3] step", LogLevel.Info, "[1/3] step"],
    ["plain text  ", LogLevel.Info, "plain text"],
    ["", LogLevel.Info, ""]
  ]
  for (const [line, level, message] of cases) {
    it(`reads ${JSON.stringify(line)}`, () => {
      const parsed = parsePluginLogLine(line)
      expect(parsed.level).toBe(level)
      expect(parsed.message).toBe(message)
      expect(parsed.fields).toEqual({})
    })
  }

  it("reads hclog's JSON lines, keeping their fields", () => {
    const parsed = parsePluginLogLine(
      `{"@level":"warn","@message":"plugin slow","@module":"billing","@timestamp":"2024-05-01T10:00:00Z","took":1.5}`
    )
    expect(parsed).toEqual({ level: LogLevel.Warning, message: "plugin slow", fields: { "@module": "billing", took: 1.5 } })
  })

  it("reads pino/slog JSON lines with numeric or word levels", () => {
    expect(parsePluginLogLine(`{"level":50,"time":1,"msg":"failed","pid":3}`)).toEqual({
      level: LogLevel.Error,
      message: "failed",
      fields: { pid: 3 }
    })
    expect(parsePluginLogLine(`{"level":"DEBUG","message":"m"}`).level).toBe(LogLevel.Debug)
    expect(parsePluginLogLine(`{"severity":"CRITICAL","msg":"down"}`).level).toBe(LogLevel.Fatal)
  })

  it("keeps JSON that is not a log entry, and broken JSON, as text", () => {
    expect(parsePluginLogLine(`{"answer":42}`)).toEqual({ level: LogLevel.Info, message: `{"answer":42}`, fields: {} })
    expect(parsePluginLogLine(`{"level":"info"`).message).toBe(`{"level":"info"`)
    expect(parsePluginLogLine(`[1,2]`).message).toBe(`[1,2]`)
  })

  it("uses the fallback level for lines that name none", () => {
    expect(parsePluginLogLine("hello", LogLevel.Warning).level).toBe(LogLevel.Warning)
    expect(parsePluginLogLine(`{"level":"loud","msg":"x"}`, LogLevel.Debug).level).toBe(LogLevel.Debug)
  })
})

/** Collects what a logger receives, formatted by the host log format without the time. */
const capture = Effect.gen(function*() {
  const lines: Array<string> = []
  const format = HostLogger.make({ time: false })
  const logger = Logger.make<unknown, void>((options) => void lines.push(format.log(options)))
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
})

describe("host log format", () => {
  it.effect("prints one plugin line as one line, at the plugin's level, with plugin, pid and host as fields", () =>
    Effect.gen(function*() {
      const { layer, lines } = yield* capture
      const source = { host: "demo", plugin: "ts_rest", pid: 4242, stream: "stderr" } as const
      yield* Effect.provide(
        Effect.all([
          logPluginLine(source, "INFO listening on 127.0.0.1:37447 (rest)"),
          logPluginLine(source, `{"@level":"error","@message":"bad\\nthing","code":"E 1"}`),
          logPluginLine({ ...source, stream: "stdout" }, "DEBUG hidden below the minimum"),
          logPluginLine({ ...source, stream: "stdout" }, "plain")
        ]),
        layer
      )
      expect(lines).toEqual([
        "INFO  ts_rest pid=4242 host=demo: listening on 127.0.0.1:37447 (rest)",
        `ERROR ts_rest pid=4242 host=demo: bad | thing code="E 1"`,
        "INFO  ts_rest pid=4242 host=demo: plain stream=stdout"
      ])
    }))

  it.effect("prints library lines without plugin fields, and the compact level form", () =>
    Effect.gen(function*() {
      const format = HostLogger.make({ time: false, compactLevel: true })
      const line = format.log({
        fiberId: undefined as never,
        logLevel: LogLevel.Warning,
        message: ["two", "parts"],
        cause: Cause.empty,
        context: undefined as never,
        spans: List.empty(),
        annotations: HashMap.make(["attempt", 2]),
        date: new Date()
      })
      expect(line).toBe("[warn] two parts attempt=2")
    }))
})

describe("[settings] log_level", () => {
  it.scoped("sets the minimum level of the program GoPlugin.layer is provided to, and options.logLevel overrides it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "config.toml")
      fs.writeFileSync(file, `[settings]\nlog_level = "error"\n`)
      const { layer, lines } = yield* capture
      const both = (goplugin: Layer.Layer<GoPlugin.GoPluginServices, unknown>) =>
        Effect.all([Effect.logWarning("warned"), Effect.logError("failed"), Effect.logDebug("debugged")]).pipe(
          Effect.provide(goplugin),
          Effect.provide(layer),
          Effect.orDie
        )
      yield* both(GoPlugin.layer({ configFile: file }))
      expect(lines).toEqual(["ERROR failed"])
      lines.length = 0
      yield* both(GoPlugin.layer({ configFile: file, logLevel: LogLevel.Debug }))
      expect(lines).toEqual(["WARN  warned", "ERROR failed", "DEBUG debugged"])
      expect(HostLogger.levelOfSetting("none")).toBe(LogLevel.None)
      expect(HostLogger.levelOfSetting("warn")).toBe(LogLevel.Warning)
    }))
})
