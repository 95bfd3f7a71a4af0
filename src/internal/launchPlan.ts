/**
 * What every launcher that starts a long-lived process does the same way: a fresh token, the
 * `GOPLUGIN_*` environment, the start request and the target's common fields.
 *
 * @internal
 */
import * as crypto from "node:crypto"
import type { LaunchPlan, TargetBase } from "../Launcher.js"
import type { StartRequest } from "../ProcessRegistry.js"

/** A fresh secret per launch: only the host that started a plugin can call it. */
export const newToken = (): string => crypto.randomBytes(32).toString("hex")

/** The environment every plugin gets (see docs/protocol.md, "Launch"). */
export const pluginEnv = (plan: LaunchPlan, token: string, port?: number): Record<string, string> => {
  const env: Record<string, string> = {
    GOPLUGIN_HOST: plan.host,
    GOPLUGIN_PLUGIN: plan.plugin.name,
    GOPLUGIN_TOKEN: token,
    GOPLUGIN_HOST_PID: String(process.pid)
  }
  if (port !== undefined) env["GOPLUGIN_PORT"] = String(port)
  return env
}

/** The start request of one process of the plan's plugin. */
export const startRequest = (
  plan: LaunchPlan,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>,
  options: Pick<StartRequest, "collectStdout" | "announce" | "stderrEntries"> = {}
): StartRequest => ({
  host: plan.host,
  plugin: plan.plugin.name,
  exec: plan.plugin.exec,
  args,
  cwd: plan.plugin.cwd,
  env,
  grace: plan.stopGrace,
  ...options
})

/** The fields every target shares. */
export const targetBase = (plan: LaunchPlan, token: string): TargetBase => ({
  host: plan.host,
  plugin: plan.plugin.name,
  token,
  timeout: plan.callTimeout,
  maxResponseBytes: plan.maxResponseBytes,
  traceCalls: plan.traceCalls
})
