/**
 * Where a pipeline's steps find their plugins: inline `[plugins.<name>]` tables (a host of their own,
 * unpinned ones run with a warning) or a host's config; each resolves to a lazily started, shared caller.
 *
 * @internal
 */
import { Effect, Either, Option } from "effect"
import type { Caller } from "../Caller.js"
import type { Container } from "../Container.js"
import * as Executor from "../Executor.js"
import * as Host from "../Host.js"
import * as Md5Checker from "../Md5Checker.js"
import type { Pipeline } from "../PipelineConfig.js"
import type { PluginConfig, PluginSpec } from "../PluginConfig.js"
import { PipelineInvalid, PipelineNeedsExecutor, type StartError } from "../PluginError.js"

/** An `Md5Checker` that lets inline plugins without a digest through and verifies every other file. */
const trustingUnpinned = (base: Md5Checker.Md5Checker["Type"], unpinned: ReadonlySet<string>): Md5Checker.Md5Checker["Type"] => ({
  digest: base.digest,
  verify: (plugin, file, expected) => (unpinned.has(plugin) ? Effect.void : base.verify(plugin, file, expected))
})

/** The container of the pipeline's inline plugins: a host of their own, built from the pipeline file. */
const inlineContainer = (pipeline: Pipeline, host: string, names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const base = yield* Md5Checker.Md5Checker
    const plugins: Record<string, PluginSpec> = {}
    const unpinned = new Set<string>()
    for (const name of names) {
      const spec = pipeline.plugins[name]!
      if (spec.md5 === undefined) unpinned.add(name)
      plugins[name] = { ...spec, md5: spec.md5 ?? "" }
    }
    const config: PluginConfig = {
      file: pipeline.file,
      dir: pipeline.dir,
      meta: {},
      settings: pipeline.settings,
      plugins,
      hosts: { [host]: { plugins: names } }
    }
    const checker = trustingUnpinned(base, unpinned)
    const executor = yield* Executor.make(config).pipe(Effect.provideService(Md5Checker.Md5Checker, checker))
    const container = yield* Effect.orDie(executor.fromHost(host))
    for (const name of unpinned) {
      const installed = container.installed.plugins.get(name)
      const digest = installed === undefined ? "" : yield* Effect.orElseSucceed(base.digest(installed.execFile), () => "")
      yield* Effect.logWarning(
        `inline plugin "${name}" has no md5 in ${pipeline.file}, so its executable is not verified` +
          (digest === "" ? "" : `; add md5 = "${digest}" to [plugins.${name}] to pin it`)
      ).pipe(Effect.annotateLogs({ plugin: name }))
    }
    return container
  })

/** Resolves every plugin the steps name to a lazily started, shared caller; fails before any step runs. */
export const resolvePlugins = (pipeline: Pipeline, host: string | undefined) =>
  Effect.gen(function*() {
    const used = Array.from(new Set(pipeline.steps.map((step) => step.plugin)))
    const inline = used.filter((name) => Object.hasOwn(pipeline.plugins, name))
    const fromHost = used.filter((name) => !Object.hasOwn(pipeline.plugins, name))
    const stepUsing = (name: string) => pipeline.steps.find((step) => step.plugin === name)!
    const invalid = (name: string, problem: string) =>
      new PipelineInvalid({ file: pipeline.file, path: `steps[${stepUsing(name).index}].plugin`, problem })
    const containers: Array<[ReadonlyArray<string>, Container]> = []
    if (fromHost.length > 0) {
      if (host === undefined) {
        const name = fromHost[0]!
        return yield* invalid(name, `plugin "${name}" is not declared under [plugins.${name}] in this file and no host ` +
          `is set; declare it inline (exec, comm_type), or set host = "<name>" to use the plugins of that host's config`)
      }
      const executor = yield* Effect.serviceOption(Executor.Executor)
      if (Option.isNone(executor)) {
        return yield* new PipelineNeedsExecutor({ file: pipeline.file, host, plugins: fromHost })
      }
      const container = yield* executor.value.fromHost(host)
      for (const name of fromHost) {
        const found = Host.lookup(container.installed, name)
        if (Either.isLeft(found) && (found.left._tag === "PluginNotFound" || found.left._tag === "PluginNotAllowed")) {
          return yield* invalid(name, `${found.left.message} Or declare it inline under [plugins.${name}] in this file.`)
        }
      }
      containers.push([fromHost, container])
    }
    if (inline.length > 0) containers.push([inline, yield* inlineContainer(pipeline, host ?? "pipeline", inline)])
    const callers = new Map<string, Effect.Effect<Caller, StartError>>()
    for (const [names, container] of containers) {
      for (const name of names) callers.set(name, yield* Effect.cached(container.run(name)))
    }
    return callers
  })
