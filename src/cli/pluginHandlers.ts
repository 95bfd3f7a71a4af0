/**
 * What `goplugin register | plugins` do once their command line is parsed (pluginCommands.ts defines
 * the commands; this module is loaded when one of them runs, see handledBy.ts).
 *
 * @since 0.2.0
 */
import { Console, Effect, Either, Option } from "effect"
import { CallerFactory } from "../CallerFactory.js"
import * as ConfigEditor from "../ConfigEditor.js"
import { Discover } from "../Discover.js"
import * as Host from "../Host.js"
import * as Manifest from "../Manifest.js"
import type { PluginConfig } from "../PluginConfig.js"
import { HostNotFound } from "../PluginError.js"
import { configServices } from "./libraryLayers.js"
import { errorJson, printJson, quietly, table } from "./output.js"

const describeRegistration = (result: ConfigEditor.RegisterResult, md5: string, execFile: string) =>
  Effect.gen(function*() {
    const where = result.created ? `${result.file} (created)` : result.file
    yield* Console.log(`plugin "${result.plugin}" ${result.change} in ${where}`)
    yield* Console.log(`  md5 ${md5} of ${execFile}`)
    const hosts = [
      ...result.hostsCreated.map((h) => `${h} (created)`),
      ...result.hostsJoined.map((h) => `${h} (added to its plugins)`),
      ...result.hostsUnchanged.map((h) => `${h} (already allowed)`)
    ]
    yield* Console.log(`  hosts: ${hosts.length === 0 ? "none (the manifest lists no hosts)" : hosts.join(", ")}`)
    if (result.backup !== null) {
      yield* Console.error(
        `goplugin: note: ${result.file} had a layout the editor cannot patch, so it was rewritten without its ` +
          `comments; the previous file is ${result.backup}`
      )
    }
    const host = [...result.hostsCreated, ...result.hostsJoined, ...result.hostsUnchanged][0]
    if (host !== undefined) yield* Console.log(`next: goplugin ping ${host} ${result.plugin}`)
  })

/** `goplugin register <plugin-dir>`: adds or updates a plugin and its hosts in the config from its manifest. */
export const register = (
  { force, json, pluginDir, trustFile }: {
    readonly pluginDir: string
    readonly force: boolean
    readonly trustFile: boolean
    readonly json: boolean
  }
) =>
  Effect.gen(function*() {
    const location = yield* Effect.flatMap(Discover, (discover) => discover.locate)
    const manifest = yield* Manifest.load(pluginDir)
    const registration = yield* Manifest.resolve(manifest, { trustFile })
    const result = yield* ConfigEditor.register(location.file, registration, { force })
    const md5 = String(registration.entry["md5"])
    if (json) return yield* printJson({ manifest: manifest.file, ...result, execFile: registration.execFile, md5 })
    yield* describeRegistration(result, md5, registration.execFile)
  }).pipe(Effect.provide(configServices))

/** One plugin as `goplugin plugins` lists it. */
interface ListedPlugin {
  readonly plugin: string
  readonly protocol: string
  readonly driver: boolean
  readonly hosts: ReadonlyArray<string>
  readonly status: "ok" | "failed"
  readonly exec: string | null
  readonly execFile: string | null
  readonly error: ReturnType<typeof errorJson> | null
}

const shortStatus = (plugin: ListedPlugin): string => {
  if (plugin.error === null) return "ok"
  const detail = plugin.error.details
  switch (plugin.error.tag) {
    case "ChecksumMismatch":
      return `FAILED: ${String(detail["algorithm"])} mismatch`
    case "ExecutableNotFound":
      return `FAILED: ${String(detail["field"])} not found`
    case "FileUnreadable":
      return "FAILED: file unreadable"
    default:
      return `FAILED: ${plugin.error.tag}`
  }
}

/** Lists plugins (all, or those one host may use) with their ACL, protocol and verification status. */
export const listPlugins = Effect.fn("cli.plugins")(function*(config: PluginConfig, host: string | undefined) {
  const factory = yield* CallerFactory
  if (host !== undefined && config.hosts[host] === undefined) {
    return yield* new HostNotFound({ file: config.file, host, known: Object.keys(config.hosts) })
  }
  const names = host !== undefined ? Array.from(new Set(config.hosts[host]?.plugins ?? [])) : Object.keys(config.plugins)
  const hostsOf = (name: string) =>
    Object.entries(config.hosts).filter(([, spec]) => spec.plugins.includes(name)).map(([hostName]) => hostName)
  return yield* Effect.forEach(names, (name) =>
    Effect.map(Effect.either(quietly(Host.installPlugin(config, host ?? hostsOf(name)[0] ?? "", name))), (result): ListedPlugin => {
      const protocol = config.plugins[name]?.commType ?? "?"
      const common = { plugin: name, protocol, driver: factory.drivers.has(protocol), hosts: hostsOf(name) }
      return Either.isRight(result)
        ? { ...common, status: "ok", exec: result.right.exec, execFile: result.right.execFile, error: null }
        : { ...common, status: "failed", exec: null, execFile: null, error: errorJson(result.left) }
    }), { concurrency: 8 })
})

/** `goplugin plugins`: each plugin with its host ACL, protocol and verification status. */
export const plugins = (host: Option.Option<string>, json: boolean) =>
  Effect.gen(function*() {
    const config = yield* Effect.flatMap(Discover, (discover) => discover.load)
    const plugins = yield* listPlugins(config, Option.getOrUndefined(host))
    if (json) return yield* printJson({ file: config.file, host: Option.getOrNull(host), plugins })
    if (plugins.length === 0) {
      return yield* Console.log(`No plugins in ${config.file}. Add one with: goplugin register <plugin-dir>`)
    }
    yield* Console.log(table(
      ["PLUGIN", "PROTOCOL", "HOSTS", "STATUS"],
      plugins.map((p) => [
        p.plugin,
        p.driver ? p.protocol : `${p.protocol} (no driver)`,
        p.hosts.length === 0 ? "-" : p.hosts.join(","),
        shortStatus(p)
      ])
    ))
    const failed = plugins.filter((p) => p.status === "failed").length
    if (failed > 0) yield* Console.log(`\n${failed} plugin(s) cannot run; goplugin config check says why.`)
  }).pipe(Effect.provide(configServices))
