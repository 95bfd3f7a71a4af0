/**
 * Config bounds and config files that are not what they should be: every case is a typed error with a
 * short message, decided without starting any process.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { SystemError } from "@effect/platform/Error"
import * as NodePath from "@effect/platform-node/NodePath"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { decodeConfig, Discover, layerFile, layerFileNode } from "../src/Discover.js"
import { decodeManifest } from "../src/Manifest.js"
import { decodePipeline } from "../src/PipelineConfig.js"
import { tempDir } from "./helpers.js"

const plugin = (name: string, extra = "") => `
[plugins.${name}]
md5 = "d194b7bad208c2ddfa0ef597fd4abcc5"
exec = "/bin/true"
comm_type = "rest"
${extra}
`
const config = (settings: string, plugins = plugin("p"), hosts = `[hosts.app]\nplugins = ["p"]\n`) =>
  `[settings]\n${settings}\n${plugins}\n${hosts}`

const decode = (text: string) => decodeConfig("/etc/goplugin/config.toml", text)

const failure = <A, E>(either: Either.Either<A, E>): E => {
  if (Either.isRight(either)) throw new Error("expected a failure, got a success")
  return either.left
}

/** Ten million characters: big enough that echoing it would be the bug. */
const huge = "x".repeat(10_000_000)

describe("config bounds", () => {
  it("refuses times no timer can wait for: 1e300, inf, -inf, nan, 0, negative", () => {
    const cases: ReadonlyArray<[string, string, string]> = [
      ["call_timeout = 1e300", "settings.call_timeout", "at most 2147483.647 seconds"],
      ["stop_grace = inf", "settings.stop_grace", "finite number of seconds, got inf"],
      ["health_interval = -inf", "settings.health_interval", "finite number of seconds, got -inf"],
      ["health_timeout = nan", "settings.health_timeout", "got nan"],
      ["restart_window = 0", "settings.restart_window", "greater than 0"],
      ["call_timeout = -1", "settings.call_timeout", "greater than 0"],
      ["stop_grace = 2147483.648", "settings.stop_grace", "at most 2147483.647 seconds"]
    ]
    for (const [line, where, problem] of cases) {
      const error = failure(decode(config(line)))
      expect(error._tag, line).toBe("ConfigInvalid")
      expect(error, line).toMatchObject({ path: where })
      expect(error.message, line).toContain(problem)
    }
  })

  it("applies the same bounds to a plugin's own times", () => {
    const timeout = failure(decode(config("", plugin("p", "call_timeout = 1e300"))))
    expect(timeout).toMatchObject({ _tag: "ConfigInvalid", path: "plugins.p.call_timeout" })
    const start = failure(decode(config("", plugin("p", "exec_time = inf"))))
    expect(start).toMatchObject({ _tag: "ConfigInvalid", path: "plugins.p.exec_time" })
  })

  it("accepts the longest time a timer can wait, and decodes times into Durations", () => {
    const decoded = Either.getOrThrow(decode(config("call_timeout = 2147483.647\nstop_grace = 0.25")))
    expect(Duration.toMillis(decoded.settings.callTimeout)).toBe(2 ** 31 - 1)
    expect(decoded.settings.stopGrace).toEqual(Duration.millis(250))
    expect(decoded.plugins["p"]!.execTime).toEqual(Duration.seconds(5))
  })

  it("refuses a plugin or a host named \"\"", () => {
    const emptyPlugin = failure(decode(config("", plugin(`""`), `[hosts.app]\nplugins = []\n`)))
    expect(emptyPlugin).toMatchObject({ _tag: "ConfigInvalid", path: `plugins.""` })
    expect(emptyPlugin.message).toContain("a plugin name cannot be empty")
    const emptyHost = failure(decode(config("", plugin("p"), `[hosts.""]\nplugins = ["p"]\n`)))
    expect(emptyHost).toMatchObject({ _tag: "ConfigInvalid", path: `hosts.""` })
    expect(emptyHost.message).toContain("a host name cannot be empty")
  })

  it("quotes at most a couple hundred characters of a 10 MB value, key or line", () => {
    const wrongType = failure(decode(config("", plugin("p", `author = "${huge}"\nexec_time = "${huge}"`))))
    expect(wrongType).toMatchObject({ _tag: "ConfigInvalid", path: "plugins.p.exec_time" })
    expect(wrongType.message.length).toBeLessThan(1000)
    expect(wrongType.message).toContain("10000002 characters in all")

    const tableIsString = failure(decode(`settings = "${huge}"\n`))
    expect(tableIsString).toMatchObject({ _tag: "ConfigInvalid", path: "settings" })
    expect(tableIsString.message.length).toBeLessThan(1000)

    const longKey = failure(decode(config("", plugin("p", `${"k".repeat(1_000_000)} = 1`))))
    expect(longKey._tag).toBe("ConfigInvalid")
    expect(longKey.message.length).toBeLessThan(1500)

    const unclosed = failure(decode(`[settings]\ndebug = "${huge}\n`))
    expect(unclosed._tag).toBe("ConfigParseError")
    expect(unclosed.message.length).toBeLessThan(1500)
  })

  it("keeps pipeline and manifest errors short too (they share the TOML decoder)", () => {
    const pipeline = failure(decodePipeline("/p/pipeline.toml", `[[steps]]\nname = "a"\nplugin = "p"\ncommand = ${huge.length}\npayload = "${huge}"\n`))
    expect(pipeline._tag).toBe("PipelineInvalid")
    expect(pipeline.message.length).toBeLessThan(1000)
    const manifest = failure(decodeManifest("/m/goplugin.toml", `[plugin]\nname = "${huge} "\nexec = "x"\ncomm_type = "rest"\n`))
    expect(manifest._tag).toBe("ManifestInvalid")
    expect(manifest.message.length).toBeLessThan(1000)
  })

  it("bounds a pipeline step's timeout like a config time", () => {
    const error = failure(decodePipeline("/p/pipeline.toml", `[[steps]]\nname = "a"\nplugin = "p"\ncommand = "c"\ntimeout = 1e300\n`))
    expect(error).toMatchObject({ _tag: "PipelineInvalid", path: "steps[0].timeout" })
  })
})

const load = (layer: Layer.Layer<Discover>) => Effect.flip(Effect.flatMap(Discover, (discover) => discover.load).pipe(Effect.provide(layer)))

describe("config files that cannot be used", () => {
  it.scoped("an empty (or blank) file is ConfigInvalid, not a config with 0 hosts", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      for (const text of ["", "\n  \n\t\n"]) {
        const file = path.join(dir, "config.toml")
        fs.writeFileSync(file, text)
        const error = yield* load(layerFileNode(file))
        expect(error).toMatchObject({ _tag: "ConfigInvalid", file, path: "" })
        expect(error.message).toContain("the file is empty")
      }
    }))

  it.scoped("bytes that are not UTF-8 are ConfigUnreadable (encoding), with where the first bad byte is", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "config.toml")
      fs.writeFileSync(file, Buffer.concat([Buffer.from(`[meta]\nauthor = "h\u00e9`), Buffer.from([0xff, 0xfe]), Buffer.from(`"\n`)]))
      const error = yield* load(layerFileNode(file))
      expect(error).toMatchObject({ _tag: "ConfigUnreadable", file, reason: "encoding" })
      expect(error.message).toContain("byte 20 (line 2, column 13)")
      expect(error.message).toContain("not valid UTF-8")
    }))

  it.scoped("a folder where the file should be is ConfigUnreadable (directory), not ConfigNotFound", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "config.toml")
      fs.mkdirSync(file)
      const error = yield* load(layerFileNode(file))
      expect(error).toMatchObject({ _tag: "ConfigUnreadable", file, reason: "directory" })
      expect(error.message).toContain("it is a folder")
    }))

  it.effect("a file this process may not read is ConfigUnreadable (permission), keeping the system error", () =>
    Effect.gen(function*() {
      // Tests run as root, whom chmod 000 does not stop: a FileSystem double answers EACCES instead.
      const denied = new SystemError({
        reason: "PermissionDenied",
        module: "FileSystem",
        method: "readFile",
        pathOrDescriptor: "/etc/goplugin/config.toml",
        description: "EACCES: permission denied, open '/etc/goplugin/config.toml'"
      })
      const fileSystem = FileSystem.layerNoop({
        stat: () => Effect.succeed(fileInfo),
        readFile: () => Effect.fail(denied)
      })
      const error = yield* load(layerFile("/etc/goplugin/config.toml").pipe(Layer.provide(Layer.merge(fileSystem, NodePath.layer))))
      expect(error).toMatchObject({ _tag: "ConfigUnreadable", reason: "permission", cause: denied })
      expect(error.message).toContain("this process may not read it")
    }))

  it.effect("a missing file stays ConfigNotFound", () =>
    Effect.gen(function*() {
      const error = yield* load(layerFileNode("/nonexistent/goplugin/config.toml"))
      expect(error._tag).toBe("ConfigNotFound")
    }))
})

const fileInfo: FileSystem.File.Info = {
  type: "File",
  mtime: Option.none(),
  atime: Option.none(),
  birthtime: Option.none(),
  dev: 0,
  ino: Option.none(),
  mode: 0o644,
  nlink: Option.none(),
  uid: Option.none(),
  gid: Option.none(),
  rdev: Option.none(),
  size: FileSystem.Size(100),
  blksize: Option.none(),
  blocks: Option.none()
}
