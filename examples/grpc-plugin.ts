#!/usr/bin/env node
/**
 * An example gRPC plugin (service `plugin.Plugin` of proto/plugin.proto): `echo`, `upper`, `reverse`
 * and `wordcount`. Run it with `--port 8080`.
 */
import { runMain } from "goplugin-effect/sdk"
import { echo, reverse, upper, wordcount } from "./handlers.js"

runMain({ protocol: "grpc", handlers: { echo, upper, reverse, wordcount } })
