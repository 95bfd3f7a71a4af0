import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { candidateFor, decodeConfig, Discover, layerFileNode, layerNode } from "../src/Discover.js"
import { configuredPort } from "../src/PluginConfig.js"
import { root, tempDir } from "./helpers.js"

const good = `
[meta]
version = "1.0.0"
author = "hiraq|hiraq.dev@gmail.com"
contributors = ["a|a@test.com", "b|b@test.com"]

[settings]
debug = true

[plugins.name_1]
author = "author_1|author_1@gmail.com"
md5 = "d194b7bad208c2ddfa0ef597fd4abcc5"
exec = "/path/to/exec"
exec_args = ["--port", "8080"]
exec_file = "/path/to/exec"
exec_time = 5
comm_type = "grpc"
comm_port = "8080"

[plugins.name_3]
md5 = "d194b7bad208c2ddfa0ef597fd4abcc5"
exec = "plugin-three"
comm_type = "nano"

[hosts.host_1]
plugins = ["name_1"]

[hosts.host_2]
plugins = ["name_3"]
`

const decode = (text: string) => decodeConfig("/etc/goplugin/config.toml", text)

const left = <A, E>(either: Either.Either<A, E>): E => {
  if (Either.isRight(either)) throw new Error("expected a failure, got a success")
  return either.left
}

describe("config decoding", () => {
  it("decodes every field of the spec, with defaults for the omitted ones", () => {
    const config = Either.getOrThrow(decode(good))
    expect(config.file).toBe("/etc/goplugin/config.toml")
    expect(config.dir).toBe("/etc/goplugin")
    expect(config.meta.contributors).toEqual(["a|a@test.com", "b|b@test.com"])
    expect(config.settings).toEqual({
      debug: true,
      callTimeout: Duration.seconds(5),
      stopGrace: Duration.seconds(2),
      maxResponseBytes: 64 * 1024 * 1024,
      restart: true,
      healthInterval: Duration.seconds(5),
      healthTimeout: Duration.seconds(2),
      unhealthyAfter: 3,
      maxRestarts: 5,
      restartWindow: Duration.seconds(60)
    })
    const one = config.plugins["name_1"]!
    expect(one).toMatchObject({
      author: "author_1|author_1@gmail.com",
      execArgs: ["--port", "8080"],
      execFile: "/path/to/exec",
      execTime: Duration.seconds(5),
      commType: "grpc",
      commPort: 8080
    })
    expect(configuredPort(one)).toBe(8080)
    const three = config.plugins["name_3"]!
    expect(three.execArgs).toEqual([])
    expect(three.execTime).toEqual(Duration.seconds(5))
    expect(three.commPort).toBeUndefined()
    expect(configuredPort(three)).toBeUndefined()
    expect(config.hosts["host_1"]!.plugins).toEqual(["name_1"])
  })

  it("shows the spec's own example config error (the unclosed string in contributors) with file, line and column", () => {
    const file = path.join(root, "test/fixtures/configs/spec-example.toml")
    const error = left(decodeConfig(file, fs.readFileSync(file, "utf8")))
    expect(error._tag).toBe("ConfigParseError")
    expect(error).toMatchObject({ file, line: 7, column: 18 })
    expect(error.message).toContain(`${file}:7:18: TOML syntax error: a string is not closed before the end of line 7`)
    expect(error.message).toContain(`"b|b@test.com`)
  })

  it("names the field path of a schema problem", () => {
    const error = left(decode(good.replace(`md5 = "d194b7bad208c2ddfa0ef597fd4abcc5"\nexec = "/path`, `md5 = "nothex"\nexec = "/path`)))
    expect(error._tag).toBe("ConfigInvalid")
    expect(error).toMatchObject({ path: "plugins.name_1.md5" })
    expect(error.message).toContain("/etc/goplugin/config.toml: invalid config at plugins.name_1.md5")
    expect(error.message).toContain("32 hexadecimal characters")
  })

  it("rejects a missing required field, a wrong type, and a misspelt key", () => {
    const missing = left(decode(good.replace(`comm_type = "nano"\n`, "")))
    expect(missing).toMatchObject({ _tag: "ConfigInvalid", path: "plugins.name_3.comm_type" })
    const wrongType = left(decode(good.replace("exec_time = 5", `exec_time = "soon"`)))
    expect(wrongType).toMatchObject({ _tag: "ConfigInvalid", path: "plugins.name_1.exec_time" })
    const typo = left(decode(good.replace("exec_time = 5", "exec_tme = 5")))
    expect(typo).toMatchObject({ _tag: "ConfigInvalid", path: "plugins.name_1.exec_tme" })
    const badPort = left(decode(good.replace(`comm_port = "8080"`, `comm_port = "80x"`)))
    expect(badPort).toMatchObject({ _tag: "ConfigInvalid", path: "plugins.name_1.comm_port" })
  })

  it("refuses a host that lists an undefined plugin", () => {
    const error = left(decode(good.replace(`plugins = ["name_1"]`, `plugins = ["name_1", "ghost"]`)))
    expect(error).toMatchObject({ _tag: "ConfigInvalid", path: "hosts.host_1.plugins[1]" })
    expect(error.message).toContain(`plugin "ghost" is not defined under [plugins]`)
  })

  it("accepts an unknown comm_type (it fails only when its caller is asked for)", () => {
    const config = Either.getOrThrow(decode(good))
    expect(config.plugins["name_3"]!.commType).toBe("nano")
  })
})

describe("config discovery", () => {
  it("uses GOPLUGIN_DIR (a folder or a .toml file), else $HOME/.goplugin", () => {
    expect(candidateFor({ GOPLUGIN_DIR: "/opt/plugins", HOME: "/home/me" }).file).toBe("/opt/plugins/config.toml")
    expect(candidateFor({ GOPLUGIN_DIR: "/opt/plugins/custom.toml" }).file).toBe("/opt/plugins/custom.toml")
    expect(candidateFor({ HOME: "/home/me" })).toEqual({
      file: "/home/me/.goplugin/config.toml",
      reason: "GOPLUGIN_DIR is not set, so $HOME/.goplugin"
    })
  })

  it.scoped("reads the file GOPLUGIN_DIR points at (the environment comes from the ConfigProvider)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      fs.writeFileSync(path.join(dir, "config.toml"), good)
      const env = ConfigProvider.fromMap(new Map([["GOPLUGIN_DIR", dir], ["HOME", "/nonexistent-home"]]))
      const config = yield* Effect.flatMap(Discover, (d) => d.load).pipe(
        Effect.provide(Layer.merge(layerNode, Layer.setConfigProvider(env)))
      )
      expect(config.file).toBe(path.join(dir, "config.toml"))
      expect(Object.keys(config.plugins)).toEqual(["name_1", "name_3"])
    }))

  it.effect("says which file it looked for when there is none", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.flatMap(Discover, (d) => d.load).pipe(
        Effect.provide(layerFileNode("/nonexistent/goplugin/config.toml"))
      ))
      expect(error._tag).toBe("ConfigNotFound")
      expect(error.message).toContain("/nonexistent/goplugin/config.toml")
      expect(error.message).toContain("no such file")
      expect(error.message).toContain("GOPLUGIN_DIR")
    }))
})
