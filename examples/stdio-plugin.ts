#!/usr/bin/env node
/**
 * An example stdio plugin: one call per process. Try
 * `echo '{"type":"exec","command":"slugify","payload":"48656c6c6f20576f726c6421"}' | node stdio-plugin.js`.
 */
import { runMain } from "goplugin-effect/sdk"
import { echo, reverse, slugify, upper, wordcount } from "./handlers.js"

runMain({ protocol: "stdio", handlers: { echo, upper, reverse, wordcount, slugify } })
