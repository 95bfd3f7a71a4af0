#!/usr/bin/env node
/**
 * The example typed plugin: serves the billing contract over `--transport rest|grpc|stdio` (default
 * rest). Try `goplugin contract build/examples/typed/contract.js` to see what it speaks.
 */
import { runContract } from "goplugin-effect/sdk"
import { BillingContract } from "./contract.js"
import { billingHandlers } from "./handlers.js"

const at = process.argv.indexOf("--transport")
const transport = at === -1 ? "rest" : process.argv[at + 1]
const protocol = transport === "grpc" || transport === "stdio" ? transport : "rest"

runContract({ contract: BillingContract, protocol, handlers: billingHandlers(`ts-${protocol}`) })
