#!/usr/bin/env node
/**
 * A host of the typed billing plugin: `node build/examples/typed/host.js` (after `npm run build`).
 * It writes a config naming the TypeScript billing plugin (gRPC) and the Python one (stdio), calls both
 * through the typed client provided by a Layer, then the same program against the in-process test
 * double. `npm start` runs it too, after the byte-level demo.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Logger, LogLevel } from "effect"
import { GoPlugin, TypedPlugin } from "goplugin-effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { BillingContract, Declined } from "./contract.js"
import { billingHandlers } from "./handlers.js"

/** The billing plugin as a service of this application. */
export class Billing extends TypedPlugin.Tag("example/Billing", BillingContract)<Billing>() {}

/** What the application does with it: every type below is inferred from the contract. */
export const shop = Effect.gen(function*() {
  const billing = yield* Billing
  const { plugin } = yield* billing.health()
  const receipt = yield* billing.charge({ customer: "alice", amount: 30 }) // currency defaults to EUR
  yield* Console.log(`  [${plugin}] charge alice 30      -> receipt ${receipt.id}: ${receipt.amount} ${receipt.currency}`)
  const refused = yield* Effect.flip(billing.charge({ customer: "alice", amount: 500, currency: "USD" }))
  const why = refused instanceof Declined ? `Declined (limit ${refused.limit}): ${refused.reason}` : refused.message
  yield* Console.log(`  [${plugin}] charge alice 500 USD -> ${why}`)
})

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, "..", "..", "..")
const md5 = (file: string) => crypto.createHash("md5").update(fs.readFileSync(file)).digest("hex")

const plugin = (name: string, exec: string, args: ReadonlyArray<string>, file: string, commType: string) => [
  `[plugins.${name}]`,
  `md5 = "${md5(file)}"`,
  `exec = ${JSON.stringify(exec)}`,
  `exec_args = [${args.map((arg) => JSON.stringify(arg)).join(", ")}]`,
  `exec_file = ${JSON.stringify(file)}`,
  "exec_time = 10",
  `comm_type = "${commType}"`,
  ""
]

/** A config with both billing plugins allowed to host "shop", in a temporary folder. */
const writeConfig = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-typed-"))
    const script = path.join(here, "billing-plugin.js")
    const python = path.join(repo, "examples", "python", "typed_billing.py")
    const text = [
      ...plugin("billing_ts", process.execPath, [script, "--transport", "grpc"], script, "grpc"),
      ...plugin("billing_py", "python3", [python], python, "stdio"),
      "[hosts.shop]",
      `plugins = ["billing_ts", "billing_py"]`,
      ""
    ].join("\n")
    fs.writeFileSync(path.join(dir, "config.toml"), text)
    return path.join(dir, "config.toml")
  }),
  (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
)

/** The same `shop` program against the TypeScript plugin, the Python plugin, and the test double. */
export const typedTour = Effect.gen(function*() {
  const configFile = yield* writeConfig
  const services = GoPlugin.layer({ configFile })
  yield* Console.log("\ntyped plugins: one contract (examples/typed/contract.ts), three implementations")
  yield* shop.pipe(Effect.provide(Billing.layer({ host: "shop", plugin: "billing_ts" })), Effect.provide(services))
  yield* shop.pipe(Effect.provide(Billing.layer({ host: "shop", plugin: "billing_py" })), Effect.provide(services))
  yield* shop.pipe(Effect.provide(Billing.layerTest(billingHandlers("in-process test double"))))
}).pipe(Effect.scoped)

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  typedTour.pipe(Logger.withMinimumLogLevel(LogLevel.Warning), NodeRuntime.runMain)
}
