#!/usr/bin/env node
/**
 * An example stdio plugin: one call per process. Try
 * `echo '{"type":"exec","command":"slugify","payload":"48656c6c6f20576f726c6421"}' | node stdio-plugin.cjs`.
 * It imports `runMain` from `goplugin-effect/sdk/stdio`, the SDK without the REST and gRPC servers: a
 * stdio plugin starts once per call, and loads ~30% less code that way.
 */
import { runMain } from "goplugin-effect/sdk/stdio"
import { echo, reverse, slugify, upper, wordcount } from "./handlers.js"

runMain({ protocol: "stdio", handlers: { echo, upper, reverse, wordcount, slugify } })
