/**
 * Finds the goplugin config file (`GOPLUGIN_DIR`, else `$HOME/.goplugin`), parses its TOML and
 * decodes it into a typed {@link PluginConfig}.
 *
 * @since 0.1.0
 */
import { Context, Effect, Either, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { ConfigInvalid, ConfigNotFound, ConfigParseError, type ConfigError } from "./PluginError.js"
import { PluginConfigFile, type PluginConfig } from "./PluginConfig.js"
import { decodeStrict, parseTomlText } from "./internal/tomlDecode.js"

/** Where a config file was found, and why that place was chosen. */
export interface ConfigLocation {
  readonly file: string
  readonly reason: string
}

/** The environment variables that decide where the config file is. */
export interface DiscoverEnv {
  readonly GOPLUGIN_DIR?: string | undefined
  readonly HOME?: string | undefined
}

/**
 * The place to look for the config file, from the environment: `GOPLUGIN_DIR` (a folder holding
 * `config.toml`, or a `.toml` file itself), else `$HOME/.goplugin/config.toml`.
 */
export const candidateFor = (env: DiscoverEnv): ConfigLocation => {
  const dir = env.GOPLUGIN_DIR?.trim()
  if (dir !== undefined && dir !== "") {
    return dir.endsWith(".toml")
      ? { file: path.resolve(dir), reason: "GOPLUGIN_DIR names the file" }
      : { file: path.resolve(dir, "config.toml"), reason: "GOPLUGIN_DIR is set" }
  }
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : os.homedir()
  return { file: path.join(home, ".goplugin", "config.toml"), reason: "GOPLUGIN_DIR is not set, so $HOME/.goplugin" }
}

/** Checks that every plugin a host lists is defined; the spec leaves this to chance, we refuse it. */
const undefinedPluginsInHosts = (config: typeof PluginConfigFile.Type): ReadonlyArray<[string, string]> => {
  const problems: Array<[string, string]> = []
  for (const [host, spec] of Object.entries(config.hosts)) {
    spec.plugins.forEach((plugin, i) => {
      if (!(plugin in config.plugins)) {
        problems.push([`hosts.${host}.plugins[${i}]`, `plugin "${plugin}" is not defined under [plugins]`])
      }
    })
  }
  return problems
}

/**
 * Parses and decodes config text. Pure apart from its inputs, so tests and the CLI can decode text that
 * is not on disk.
 */
export const decodeConfig = (file: string, text: string): Either.Either<PluginConfig, ConfigParseError | ConfigInvalid> =>
  parseTomlText(file, text).pipe(Either.flatMap((raw) => decodeTable(file, raw)))

const decodeTable = (file: string, raw: unknown): Either.Either<PluginConfig, ConfigInvalid> =>
  decodeStrict(PluginConfigFile, raw).pipe(
    Either.mapLeft(({ path, problem }) => new ConfigInvalid({ file, path, problem })),
    Either.flatMap((decoded) => {
      const problems = undefinedPluginsInHosts(decoded)
      if (problems.length === 0) return Either.right({ ...decoded, file, dir: path.dirname(file) })
      const [[where, problem], ...others] = problems as [[string, string], ...Array<[string, string]>]
      const also = others.length > 0 ? ` (also: ${others.map(([p, m]) => `${p}: ${m}`).join("; ")})` : ""
      return Either.left(new ConfigInvalid({ file, path: where, problem: problem + also }))
    })
  )

/** Finds, reads and decodes the goplugin config. */
export class Discover extends Context.Tag("goplugin-effect/Discover")<Discover, {
  /** Which file would be used, and why. */
  readonly locate: Effect.Effect<ConfigLocation>
  /** Reads and decodes the located config file. */
  readonly load: Effect.Effect<PluginConfig, ConfigError>
  /** Reads and decodes a given config file. */
  readonly loadFile: (file: string) => Effect.Effect<PluginConfig, ConfigError>
}>() {}

/** Reads and decodes one config file. */
export const loadFile = Effect.fn("Discover.loadFile")(function*(file: string, reason = "given explicitly") {
  const absolute = path.resolve(file)
  const text = yield* Effect.tryPromise({
    try: () => fs.readFile(absolute, "utf8"),
    catch: (error) =>
      new ConfigNotFound({
        tried: [absolute],
        reason: `${reason}; ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error)}`
      })
  })
  return yield* decodeConfig(absolute, text)
})

const make = (locate: Effect.Effect<ConfigLocation>): Context.Tag.Service<Discover> => ({
  locate,
  load: Effect.flatMap(locate, (location) => loadFile(location.file, location.reason)),
  loadFile: (file) => loadFile(file)
})

/** Discover from the process environment (`GOPLUGIN_DIR`, `HOME`), read when the config is loaded. */
export const layer: Layer.Layer<Discover> = Layer.succeed(
  Discover,
  make(Effect.sync(() => candidateFor({ GOPLUGIN_DIR: process.env["GOPLUGIN_DIR"], HOME: process.env["HOME"] })))
)

/** Discover that always uses the given config file (tests, CLIs with a `--config` flag). */
export const layerFile = (file: string): Layer.Layer<Discover> =>
  Layer.succeed(Discover, make(Effect.succeed({ file: path.resolve(file), reason: "given explicitly" })))
