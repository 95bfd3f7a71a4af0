#!/usr/bin/env node
/**
 * An example REST plugin: `echo`, `upper` and `reverse`. Run it with `--port 8080`, then
 * `curl -s localhost:8080/ping`.
 */
import { runMain } from "goplugin-effect/sdk"
import { echo, reverse, upper } from "./handlers.js"

runMain({ protocol: "rest", handlers: { echo, upper, reverse } })
