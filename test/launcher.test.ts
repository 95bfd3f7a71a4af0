/**
 * The installed `goplugin` executable (src/cli/launcher.ts as dist/cli/bin.js) runs the bundled CLI
 * through a V8 code cache kept per user: the cache must appear, be reused, be replaced when damaged,
 * stay off when asked, and never stop the CLI when it cannot be written.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { installTag } from "../src/internal/codeCache.js"
import { root } from "./helpers.js"
import { bin, builtCliWithTempDirs, type Output, outputOf } from "./cliHelpers.js"

const version = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version

/** Runs `node dist/cli/bin.js ...args` with extra environment and waits for it to exit. */
const run = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>): Promise<Output> => {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env }
  if (env["NODE_DISABLE_COMPILE_CACHE"] === undefined) delete environment["NODE_DISABLE_COMPILE_CACHE"]
  return outputOf(spawn(process.execPath, [bin, ...args], { env: environment, stdio: ["ignore", "pipe", "pipe"] }))
}

const cacheFiles = (cacheHome: string): ReadonlyArray<string> => {
  const dir = path.join(cacheHome, "goplugin-effect")
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => path.join(dir, name)) : []
}

const tempDir = builtCliWithTempDirs()

describe("goplugin's code cache", () => {
  it("is written on the first run, only its owner may read it, and the next run reuses it as it is", async () => {
    const cacheHome = tempDir()
    // The cache of an earlier build for this Node version goes; another Node version's stays.
    const dir = path.join(cacheHome, "goplugin-effect")
    fs.mkdirSync(dir, { mode: 0o700 })
    // (And another install's, say a global CLI beside a project's, stays too.)
    const tag = installTag(fs.realpathSync(path.join(path.dirname(bin), "main.cjs")))
    const stale = path.join(dir, `cli-${tag}-${process.version}-${process.arch}-1-1.v8cache`)
    const otherNode = path.join(dir, `cli-${tag}-v1.0.0-${process.arch}-1-1.v8cache`)
    const otherInstall = path.join(dir, `cli-${tag === "00000000" ? "00000001" : "00000000"}-${process.version}-${process.arch}-1-1.v8cache`)
    fs.writeFileSync(stale, "old build")
    fs.writeFileSync(otherNode, "other node")
    fs.writeFileSync(otherInstall, "other install")
    const first = await run(["--version"], { XDG_CACHE_HOME: cacheHome })
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout.trim()).toBe(version)
    expect(fs.existsSync(stale)).toBe(false)
    expect(fs.readFileSync(otherNode, "utf8")).toBe("other node")
    expect(fs.readFileSync(otherInstall, "utf8")).toBe("other install")
    fs.rmSync(otherNode)
    fs.rmSync(otherInstall)
    const [file, ...others] = cacheFiles(cacheHome)
    expect(others).toEqual([])
    expect(path.basename(file!)).toMatch(new RegExp(`^cli-${tag}-${process.version}-${process.arch}-\\d+-\\d+\\.v8cache$`))
    expect(fs.statSync(path.dirname(file!)).mode & 0o777).toBe(0o700)
    expect(fs.statSync(file!).mode & 0o777).toBe(0o600)
    const saved = fs.readFileSync(file!)
    expect(saved.length).toBeGreaterThan(0)

    const second = await run(["--version"], { XDG_CACHE_HOME: cacheHome })
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout.trim()).toBe(version)
    expect(fs.readFileSync(file!).equals(saved)).toBe(true)
  }, 60_000)

  it("a damaged cache is ignored, the command still answers right, and the cache is written again", async () => {
    const cacheHome = tempDir()
    expect((await run(["--version"], { XDG_CACHE_HOME: cacheHome })).code).toBe(0)
    const [file] = cacheFiles(cacheHome)
    const garbage = crypto.randomBytes(4096)
    fs.writeFileSync(file!, garbage)
    const target = path.join(tempDir(), "small.bin")
    fs.writeFileSync(target, crypto.randomBytes(1000))
    const md5 = await run(["md5", target], { XDG_CACHE_HOME: cacheHome })
    expect(md5.code, md5.stderr).toBe(0)
    expect(md5.stdout.trim()).toBe(crypto.createHash("md5").update(fs.readFileSync(target)).digest("hex"))
    expect(fs.readFileSync(file!).equals(garbage)).toBe(false)
  }, 60_000)

  it("NODE_DISABLE_COMPILE_CACHE turns it off, and a cache folder that cannot be made costs nothing but speed", async () => {
    const cacheHome = tempDir()
    const off = await run(["--version"], { XDG_CACHE_HOME: cacheHome, NODE_DISABLE_COMPILE_CACHE: "1" })
    expect(off.code, off.stderr).toBe(0)
    expect(off.stdout.trim()).toBe(version)
    expect(cacheFiles(cacheHome)).toEqual([])

    // A file where the cache folder's parent should be: mkdir fails with ENOTDIR.
    const blocked = path.join(tempDir(), "not-a-folder")
    fs.writeFileSync(blocked, "")
    const unwritable = await run(["--version"], { XDG_CACHE_HOME: blocked })
    expect(unwritable.code, unwritable.stderr).toBe(0)
    expect(unwritable.stdout.trim()).toBe(version)
    expect(unwritable.stderr).toBe("")
  }, 60_000)
})
