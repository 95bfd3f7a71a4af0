/**
 * The README's host program is examples/host.ts, shown verbatim, and `npm run example` (the script
 * examples/run-host.sh, after the build) runs it against the example plugins.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { leftovers, outputOf } from "./cliHelpers.js"
import { root } from "./helpers.js"

describe("README host program", () => {
  it("is examples/host.ts, verbatim", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
    const host = fs.readFileSync(path.join(root, "examples", "host.ts"), "utf8")
    const blocks = Array.from(readme.matchAll(/```ts\n([\s\S]*?)```/g), (match) => match[1])
    expect(blocks).toContain(host)
  })

  it("runs against the example plugins and stops them", async () => {
    const run = await outputOf(spawn("sh", [path.join(root, "examples", "run-host.sh")], {
      cwd: root,
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env["PATH"] ?? ""}` },
      stdio: ["ignore", "pipe", "pipe"]
    }))
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("ts_rest ping: pong\nts_rest upper: HELLO\nts_grpc reverse: desserts\n")
    // Plugin lines are one line each in the host's log, with plugin, pid and host on that line.
    expect(run.stderr).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO {2}ts_rest pid=\d+ host=demo: listening on 127\.0\.0\.1:\d+ \(rest\)$/m)
    expect(run.stderr).not.toMatch(/^\s*(host|plugin|pid|stream):/m)
    expect(await leftovers(`GOPLUGIN_DIR=${path.join(root, "build", "goplugin")}`)).toEqual([])
  })
})
