#!/usr/bin/env node
// A plugin written against the installed package's SDK.
import { Effect } from "effect"
import { runMain } from "goplugin-effect/sdk"

runMain({
  protocol: "rest",
  handlers: {
    upper: (payload) => Effect.succeed(new TextEncoder().encode(new TextDecoder().decode(payload).toUpperCase()))
  }
})
