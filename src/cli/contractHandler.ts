/**
 * What `goplugin contract` does once its command line is parsed (contractCommand.ts defines the
 * command; this module is loaded when it runs, see handledBy.ts).
 *
 * @since 0.2.0
 */
import * as Rpc from "@effect/rpc/Rpc"
import { Effect, Either, Option, Predicate, Schema } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { Contract } from "../Contract.js"
import * as ContractJsonSchema from "../ContractJsonSchema.js"
import { dynamicImport } from "./dynamicImport.js"
import { printJson } from "./output.js"

/**
 * The module could not be loaded, or does not export (exactly one, or the named) contract.
 *
 * @since 0.2.0
 */
export class ContractNotFound extends Schema.TaggedError<ContractNotFound>()("ContractNotFound", {
  module: Schema.String,
  exportName: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    const what = this.exportName === undefined ? this.module : `export "${this.exportName}" of ${this.module}`
    return `no contract in ${what}: ${this.detail}`
  }
}

/** An RpcGroup: its `requests` map Rpcs (RpcGroup carries no type id of its own to test). */
const isContract = (u: unknown): u is Contract =>
  Predicate.hasProperty(u, "requests") && u.requests instanceof Map && Array.from(u.requests.values()).every(Rpc.isRpc)

/** A contract, or a `TypedPlugin.Tag` (which carries its contract). */
const contractIn = (u: unknown): Contract | undefined =>
  isContract(u) ? u : Predicate.hasProperty(u, "contract") && isContract(u.contract) ? u.contract : undefined

/** Picks the named export, else the one contract the module exports (the same one under two names counts once). */
export const findContract = (
  module: string,
  exports: Readonly<Record<string, unknown>>,
  exportName: string | undefined
): Either.Either<Contract, ContractNotFound> => {
  const found = Object.entries(exports).flatMap(([name, value]) => {
    const contract = contractIn(value)
    return contract === undefined ? [] : [{ name, contract }]
  })
  const names = found.map((entry) => entry.name)
  const fail = (detail: string) =>
    Either.left(new ContractNotFound({ module, detail, ...(exportName === undefined ? {} : { exportName }) }))
  if (exportName !== undefined) {
    const contract = contractIn(exports[exportName])
    if (contract !== undefined) return Either.right(contract)
    return fail(
      `${Object.hasOwn(exports, exportName) ? "it is not an RpcGroup" : "there is no such export"}; ` +
        `the module's contracts: ${names.length === 0 ? "none" : names.join(", ")}`
    )
  }
  const distinct = new Set(found.map((entry) => entry.contract))
  const [only] = distinct
  if (distinct.size === 1 && only !== undefined) return Either.right(only)
  return fail(
    distinct.size === 0
      ? "it exports no RpcGroup (nor TypedPlugin.Tag); export your contract from it"
      : `it exports several (${names.join(", ")}); name one: goplugin contract ${module} <export>`
  )
}

const load = (module: string) =>
  Effect.tryPromise({
    try: () => dynamicImport(pathToFileURL(path.resolve(module)).href) as Promise<Readonly<Record<string, unknown>>>,
    catch: (error) =>
      new ContractNotFound({
        module,
        detail: `it cannot be imported (${
          error instanceof Error ? error.message.split("\n")[0] : String(error)
        }); give the compiled .js file`
      })
  })

/** `goplugin contract <module> [export]`: the contract's JSON Schema on stdout. */
export const contract = (
  { exportName, module }: { readonly module: string; readonly exportName: Option.Option<string> }
) =>
  Effect.gen(function*() {
    const exports = yield* load(module)
    const contract = yield* findContract(module, exports, Option.getOrUndefined(exportName))
    yield* printJson(yield* ContractJsonSchema.make(contract))
  })
