/**
 * Builds the Go fixtures of the go-plugin tests (test/fixtures/go: a go-plugin 1.0.1 KV plugin, a Go
 * host, and a Terraform-provider-style plugin) with Debian's Go in GOPATH mode, into a cache folder outside the repository keyed by a hash of
 * the sources, so a second run reuses the binaries. `.ci/go-deps.sh` installs the toolchain.
 */
import { execFileSync } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
/** The repository root, from test/ and from build/test/ (the benchmark runs the compiled copy). */
const root = path.basename(path.dirname(here)) === "build" ? path.resolve(here, "../..") : path.resolve(here, "..")

/** Where the Go sources live. */
export const goSources = path.join(root, "test", "fixtures", "go")

/** The KV fixture's .proto file, also read by the TypeScript side. */
export const kvProto = path.join(goSources, "kv.proto")

/** The fixture's handshake values (test/fixtures/go/kv/plugin.go). */
export const kvHandshake = {
  magicCookieKey: "KV_PLUGIN_COOKIE",
  magicCookieValue: "d1b6a7c0-kv-fixture",
  protocolVersion: 3
} as const

/** The provider fixture's .proto file: a subset of Terraform's tfplugin5 (protocol 5.2). */
export const tfplugin5Proto = path.join(goSources, "tfplugin5.proto")

/** Terraform's handshake values, which the provider fixture serves (test/fixtures/go/provider). */
export const terraformHandshake = {
  magicCookieKey: "TF_PLUGIN_MAGIC_COOKIE",
  magicCookieValue: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
  protocolVersion: 5
} as const

/**
 * The `[plugins.<name>.go_plugin]` table of a KV fixture entry: its handshake (or another cookie),
 * `protoFile` relative to the config's folder, and the services `exec` may call (default kv.KV).
 */
export const kvGoPluginTable = (
  name: string,
  autoMtls: boolean,
  options: { readonly protoFile?: string; readonly cookie?: string; readonly services?: ReadonlyArray<string> } = {}
): string =>
  [
    `[plugins.${name}.go_plugin]`,
    `magic_cookie_key = "${kvHandshake.magicCookieKey}"`,
    `magic_cookie_value = "${options.cookie ?? kvHandshake.magicCookieValue}"`,
    `protocol_versions = [${kvHandshake.protocolVersion}]`,
    `auto_mtls = ${autoMtls}`,
    `proto_files = [${JSON.stringify(options.protoFile ?? "kv.proto")}]`,
    `services = [${(options.services ?? ["kv.KV"]).map((service) => JSON.stringify(service)).join(", ")}]`
  ].join("\n")

/** Paths of the built binaries. */
export interface GoFixtures {
  readonly kvplugin: string
  readonly kvhost: string
  /** The provider-style plugin (test/fixtures/go/provider), named like a Terraform provider. */
  readonly provider: string
}

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(full) : [full]
  }).sort()

const sourceHash = (): string => {
  const hash = crypto.createHash("sha256")
  hash.update(execFileSync("go", ["version"], { encoding: "utf8" }))
  for (const file of sourceFiles(goSources)) {
    hash.update(path.relative(goSources, file)).update("\0").update(fs.readFileSync(file)).update("\0")
  }
  return hash.digest("hex").slice(0, 16)
}

const cacheRoot = (): string =>
  path.join(process.env["XDG_CACHE_HOME"] ?? path.join(os.homedir(), ".cache"), "goplugin-effect", "go-fixtures")

/** The first Debian package of the Go toolchain that is missing, if any. */
export const toolchainMissing = (): string | undefined => {
  for (const tool of ["go", "protoc", "protoc-gen-go", "protoc-gen-go-grpc"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" })
    } catch {
      return tool
    }
  }
  if (!fs.existsSync("/usr/share/gocode/src/github.com/hashicorp/go-plugin")) return "golang-github-hashicorp-go-plugin-dev"
  return undefined
}

/**
 * An argument the Go fixtures ignore, unique to the calling test file: the leftover checks look for
 * it, so that two test files running the same binary at once never see each other's processes.
 */
export const testMarker = (): string => `--goplugin-test=${crypto.randomUUID()}`

let built: GoFixtures | undefined

/**
 * The built fixtures; builds them on the first call of a cache key (about 30 s on a loaded 2-core
 * machine). Throws with what to install when the toolchain is missing.
 */
export const goFixtures = (): GoFixtures => {
  if (built !== undefined) return built
  const missing = toolchainMissing()
  if (missing !== undefined) {
    throw new Error(`${missing} is not installed: run .ci/go-deps.sh (as root) to install Go and go-plugin 1.0.1`)
  }
  const dir = path.join(cacheRoot(), sourceHash())
  const bin = path.join(dir, "bin")
  const result = {
    kvplugin: path.join(bin, "kvplugin"),
    kvhost: path.join(bin, "kvhost"),
    provider: path.join(bin, "terraform-provider-fixture")
  }
  if (!Object.values(result).every((binary) => fs.existsSync(binary))) {
    // Build beside the final folder and rename, so concurrent test files never see half a build.
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    const work = fs.mkdtempSync(`${dir}.building-`)
    const pkg = path.join(work, "src", "kvfixture")
    fs.mkdirSync(pkg, { recursive: true })
    for (const sub of ["kv", "kvplugin", "kvhost", "provider"]) fs.cpSync(path.join(goSources, sub), path.join(pkg, sub), { recursive: true })
    for (const proto of [kvProto, tfplugin5Proto]) {
      execFileSync("protoc", [`-I${goSources}`, `--go_out=${path.join(work, "src")}`, `--go-grpc_out=${path.join(work, "src")}`, proto])
    }
    const env = {
      ...process.env,
      GO111MODULE: "off",
      GOPATH: `${work}:/usr/share/gocode`,
      GOCACHE: path.join(cacheRoot(), "gocache"),
      GOFLAGS: ""
    }
    const builds: ReadonlyArray<readonly [binary: string, sub: string]> = [
      ["kvplugin", "kvplugin"],
      ["kvhost", "kvhost"],
      ["terraform-provider-fixture", "provider"]
    ]
    for (const [name, sub] of builds) {
      execFileSync("go", ["build", "-o", path.join(work, "bin", name), `./${sub}`], { cwd: pkg, env, stdio: ["ignore", "ignore", "pipe"] })
    }
    try {
      fs.renameSync(work, dir)
    } catch {
      // Another test file finished the same build first: its result is identical.
      fs.rmSync(work, { recursive: true, force: true })
    }
  }
  built = result
  return result
}
