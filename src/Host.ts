/**
 * A host is a hostname plus the plugins its `[hosts.<name>]` entry allows. Installing a host resolves
 * each allowed plugin's executable and verifies its checksum; a plugin that fails is kept with its
 * reason, never dropped silently. Files are looked at through `@effect/platform`'s `FileSystem` and
 * `Path`, so the requirement shows in the types and tests can swap them.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Either } from "effect"
import { verifyCached } from "./internal/verifyCache.js"
import {
  ExecutableNotFound,
  HostNotFound,
  PluginNotAllowed,
  PluginNotFound,
  type VerifyError
} from "./PluginError.js"
import type { PluginConfig, PluginSpec } from "./PluginConfig.js"

/** A plugin whose executable was found and whose checksum matched. */
export interface InstalledPlugin {
  readonly name: string
  readonly host: string
  readonly spec: PluginSpec
  /** Absolute path of the program to start. */
  readonly exec: string
  /** Absolute path of the file whose checksum is verified. */
  readonly execFile: string
  /** The folder the plugin starts in: the config file's folder. */
  readonly cwd: string
}

/** The result of installing a host: what may run, and what may not and why. */
export interface InstalledHost {
  readonly name: string
  readonly config: PluginConfig
  /** The host's ACL, in config order. */
  readonly allowed: ReadonlyArray<string>
  readonly plugins: ReadonlyMap<string, InstalledPlugin>
  readonly failures: ReadonlyMap<string, VerifyError | PluginNotFound>
}

/** The file's stat, or none when it cannot be looked at (missing, no permission): both mean "not there". */
const statOf = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => Effect.option(fs.stat(file)))

/**
 * A regular file with an execute bit set. The bits stand in for `access(X_OK)`, which `FileSystem` does
 * not offer; a file executable only by another user passes here and fails at spawn with a
 * `PluginStartError` that names it.
 */
const isExecutableFile = (file: string) =>
  Effect.map(statOf(file), (info) => info._tag === "Some" && info.value.type === "File" && (info.value.mode & 0o111) !== 0)

const isRegularFile = (file: string) =>
  Effect.map(statOf(file), (info) => info._tag === "Some" && info.value.type === "File")

/**
 * Resolves `exec` the way the wire contract says: absolute, relative to the config folder when it
 * holds a slash, else looked up on `PATH`.
 */
export const resolveExec = (
  plugin: string,
  exec: string,
  configDir: string,
  searchPath: string | undefined = process.env["PATH"]
): Effect.Effect<string, ExecutableNotFound, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const delimiter = path.sep === "\\" ? ";" : ":"
    const candidates = path.isAbsolute(exec)
      ? [exec]
      : exec.includes("/")
      ? [path.resolve(configDir, exec)]
      : (searchPath ?? "").split(delimiter).filter((dir) => dir !== "").map((dir) => path.join(dir, exec))
    for (const candidate of candidates) {
      if (yield* isExecutableFile(candidate)) return candidate
    }
    const tried = candidates.length === 0 ? ["$PATH (empty)"] : candidates
    return yield* new ExecutableNotFound({ plugin, field: "exec", value: exec, tried })
  })

/** Resolves `exec_file` (default: the resolved `exec`) against the config folder. */
export const resolveExecFile = (
  plugin: string,
  spec: PluginSpec,
  exec: string,
  configDir: string
): Effect.Effect<string, ExecutableNotFound, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const execFile = spec.execFile
    if (execFile === undefined) return exec
    const file = (yield* Path.Path).resolve(configDir, execFile)
    if (yield* isRegularFile(file)) return file
    return yield* new ExecutableNotFound({ plugin, field: "exec_file", value: execFile, tried: [file] })
  })

/** Resolves and verifies one plugin of a host. */
export const installPlugin = Effect.fn("Host.installPlugin")(function*(
  config: PluginConfig,
  host: string,
  name: string
) {
  const spec = config.plugins[name]
  if (spec === undefined) {
    return yield* new PluginNotFound({ host, plugin: name, known: Object.keys(config.plugins) })
  }
  const exec = yield* resolveExec(name, spec.exec, config.dir)
  const execFile = yield* resolveExecFile(name, spec, exec, config.dir)
  // Through the process's verification memory: a file read in full before and unchanged since (same
  // device, inode, size, mtime and ctime) is not read again, so each new container of a host with
  // large binaries (a Terraform provider is hundreds of MB) does not hash them all again.
  yield* verifyCached(name, execFile, { md5: spec.md5, sha256: spec.sha256 })
  return { name, host, spec, exec, execFile, cwd: config.dir } satisfies InstalledPlugin
})

/**
 * Installs a host: every plugin its ACL lists is resolved and verified, concurrently. Failures are
 * logged as warnings and kept in `failures`, so the host still runs the plugins that passed.
 *
 * @example
 * ```ts
 * const installed = yield* Host.install(config, "billing")
 * for (const [plugin, error] of installed.failures) yield* Effect.logWarning(plugin, error.message)
 * ```
 */
export const install = Effect.fn("Host.install")(function*(config: PluginConfig, host: string) {
  const entry = config.hosts[host]
  if (entry === undefined) {
    return yield* new HostNotFound({ file: config.file, host, known: Object.keys(config.hosts) })
  }
  const results = yield* Effect.forEach(
    entry.plugins,
    (name) => Effect.either(installPlugin(config, host, name)),
    { concurrency: 8 }
  )
  const plugins = new Map<string, InstalledPlugin>()
  const failures = new Map<string, VerifyError | PluginNotFound>()
  for (const [i, result] of results.entries()) {
    const name = entry.plugins[i]!
    if (Either.isRight(result)) {
      plugins.set(name, result.right)
    } else {
      failures.set(name, result.left)
      yield* Effect.logWarning(`plugin "${name}" cannot run: ${result.left.message}`).pipe(
        Effect.annotateLogs({ host, plugin: name })
      )
    }
  }
  return { name: host, config, allowed: entry.plugins, plugins, failures } satisfies InstalledHost
})

/** The installed plugin, or the typed reason it cannot run on this host. */
export const lookup = (
  installed: InstalledHost,
  plugin: string
): Either.Either<InstalledPlugin, VerifyError | PluginNotFound | PluginNotAllowed> => {
  const found = installed.plugins.get(plugin)
  if (found !== undefined) return Either.right(found)
  const failure = installed.failures.get(plugin)
  if (failure !== undefined) return Either.left(failure)
  if (!(plugin in installed.config.plugins)) {
    return Either.left(
      new PluginNotFound({ host: installed.name, plugin, known: Object.keys(installed.config.plugins) })
    )
  }
  return Either.left(new PluginNotAllowed({ host: installed.name, plugin, allowed: installed.allowed }))
}
