/**
 * What `goplugin config path | check | show` do once their command line is parsed (configCommands.ts
 * defines the commands; this module is loaded when one of them runs, see handledBy.ts).
 *
 * @since 0.2.0
 */
import { Console, Effect, Either, Schema } from "effect"
import { stringify as stringifyToml } from "smol-toml"
import { CallerFactory } from "../CallerFactory.js"
import { Discover } from "../Discover.js"
import * as Host from "../Host.js"
import { isFile } from "../internal/files.js"
import { type PluginConfig, PluginConfigFile } from "../PluginConfig.js"
import { configServices } from "./libraryLayers.js"
import { CheckFailed, errorJson, oneLine, printJson, quietly } from "./output.js"

/** `goplugin config path`: which file would be used, and why. */
export const path = (json: boolean) =>
  Effect.gen(function*() {
    const location = yield* Effect.flatMap(Discover, (discover) => discover.locate)
    const found = yield* isFile(location.file)
    if (json) return yield* printJson({ file: location.file, reason: location.reason, exists: found })
    yield* Console.log(location.file)
    yield* Console.log(`  why: ${location.reason}`)
    yield* Console.log(
      found ? "  exists: yes" : "  exists: no (goplugin register <plugin-dir> creates it, or write it by hand)"
    )
  }).pipe(Effect.provide(configServices))

/** One plugin of one host, as `config check` reports it. */
interface CheckedPlugin {
  readonly plugin: string
  readonly protocol: string
  readonly ok: boolean
  readonly exec: string | null
  readonly execFile: string | null
  readonly error: ReturnType<typeof errorJson> | null
}

/** Things worth knowing that do not stop any host from running. */
const warningsOf = (config: PluginConfig, drivers: ReadonlyMap<string, unknown>): ReadonlyArray<string> => {
  const warnings: Array<string> = []
  const onSomeHost = new Set(Object.values(config.hosts).flatMap((host) => host.plugins))
  for (const [name, spec] of Object.entries(config.plugins)) {
    if (!onSomeHost.has(name)) warnings.push(`plugin "${name}" is on no host's ACL, so no host can run it`)
    if (!drivers.has(spec.commType)) {
      warnings.push(
        `plugin "${name}" uses comm_type "${spec.commType}", which has no built-in driver ` +
          `(${Array.from(drivers.keys()).join(", ")}); a host must add one with CallerFactory.withDrivers`
      )
    }
  }
  for (const [name, host] of Object.entries(config.hosts)) {
    if (host.plugins.length === 0) warnings.push(`host "${name}" allows no plugins`)
    const repeated = host.plugins.filter((plugin, i) => host.plugins.indexOf(plugin) !== i)
    if (repeated.length > 0) warnings.push(`host "${name}" lists ${repeated.map((p) => `"${p}"`).join(", ")} more than once`)
  }
  return warnings
}

/** Installs every host of the config and reports each plugin's verification. */
export const checkConfig = Effect.fn("cli.configCheck")(function*(config: PluginConfig) {
  const factory = yield* CallerFactory
  const hosts = yield* Effect.forEach(Object.keys(config.hosts), (host) =>
    Effect.map(quietly(Host.install(config, host)), (installed) => ({
      host,
      plugins: installed.allowed.map((plugin): CheckedPlugin => {
        const protocol = config.plugins[plugin]?.commType ?? "?"
        const result = Host.lookup(installed, plugin)
        return Either.isRight(result)
          ? { plugin, protocol, ok: true, exec: result.right.exec, execFile: result.right.execFile, error: null }
          : { plugin, protocol, ok: false, exec: null, execFile: null, error: errorJson(result.left) }
      })
    })))
  const problems = hosts.reduce((n, host) => n + host.plugins.filter((p) => !p.ok).length, 0)
  return { file: config.file, ok: problems === 0, problems, hosts, warnings: warningsOf(config, factory.drivers) }
})

const printCheck = (report: Effect.Effect.Success<ReturnType<typeof checkConfig>>) =>
  Effect.gen(function*() {
    yield* Console.log(`config ${report.file}`)
    for (const host of report.hosts) {
      yield* Console.log(`host ${host.host}`)
      if (host.plugins.length === 0) yield* Console.log("  (no plugins)")
      const width = Math.max(...host.plugins.map((p) => p.plugin.length), 0)
      for (const p of host.plugins) {
        const what = p.ok ? `verified ${p.execFile ?? ""}` : oneLine(p.error?.message ?? "", p.error?.tag)
        yield* Console.log(`  ${p.ok ? "ok  " : "FAIL"}  ${p.plugin.padEnd(width)}  ${p.protocol.padEnd(5)}  ${what}`)
      }
    }
    for (const warning of report.warnings) yield* Console.log(`warning: ${warning}`)
    const plugins = report.hosts.reduce((n, host) => n + host.plugins.length, 0)
    yield* Console.log(
      `${report.hosts.length} host(s), ${plugins} plugin install(s): ` +
        (report.ok ? "all verified" : `${report.problems} problem(s)`)
    )
  })

/** `goplugin config check`: decodes the config and installs every host. */
export const check = (json: boolean) =>
  Effect.gen(function*() {
    const config = yield* Effect.flatMap(Discover, (discover) => discover.load)
    const report = yield* checkConfig(config)
    yield* json ? printJson(report) : printCheck(report)
    if (!report.ok) {
      return yield* new CheckFailed({
        problems: report.problems,
        message: `config check found ${report.problems} problem(s) in ${report.file} (listed on stdout); ` +
          `fix each plugin's exec, exec_file or md5, or re-register it with goplugin register --force`
      })
    }
  }).pipe(Effect.provide(configServices))

/**
 * `goplugin config show`: the decoded config with every default filled in, written back in the file's
 * own terms (snake_case keys, times in seconds), so what it prints can be pasted into config.toml.
 */
export const show = (json: boolean) =>
  Effect.gen(function*() {
    const config = yield* Effect.flatMap(Discover, (discover) => discover.load)
    // Encoding the decoded config gives its TOML shape back: the keys and units the user writes.
    const data = Schema.encodeSync(PluginConfigFile)(config)
    if (json) return yield* printJson({ file: config.file, ...data })
    yield* Console.log(`# ${config.file} (decoded, defaults filled in)\n`)
    yield* Console.log(stringifyToml(data).trimEnd())
  }).pipe(Effect.provide(configServices))
