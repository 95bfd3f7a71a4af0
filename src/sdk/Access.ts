/**
 * Who may call a plugin. Two checks, shared by the transports:
 *
 * - the per-launch token: the host puts a fresh secret in the plugin's `GOPLUGIN_TOKEN` and sends it with
 *   every REST (`Authorization: Bearer <token>`) and gRPC (`authorization` metadata) call, so another
 *   local process cannot drive the plugin. Compared in constant time. No token, no check (a plugin
 *   started by hand). stdio has no token: only the host holds the pipe.
 * - the manifest's `hosts` list: when given, an exec whose host (X-Host / `x-host` / `host`) is not in it
 *   is refused. Ping is not checked: it only proves the plugin is alive, and the token already guards it.
 *   `hostRefusal` lives in `AllowedHosts` (re-exported here), which does not load `node:crypto`.
 *
 * @since 0.1.0
 */
import { timingSafeEqual } from "node:crypto"

export { hostRefusal } from "./AllowedHosts.js"

/** The name of the environment variable that carries the per-launch token. */
export const TOKEN_ENV = "GOPLUGIN_TOKEN"

/**
 * The token a server requires: `token` when given, else `GOPLUGIN_TOKEN` from `env`. Answers `undefined`
 * (no check) when that is absent or empty, so `token: ""` turns the check off explicitly.
 */
export const resolveToken = (
  token: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env
): string | undefined => {
  const value = token ?? env[TOKEN_ENV]
  return value === undefined || value === "" ? undefined : value
}

const BEARER = /^[ \t]*bearer[ \t]+(\S+)[ \t]*$/i

/**
 * Whether an `Authorization` value is `Bearer <expected>` (the scheme in any case, the token exactly).
 * The token is compared with `crypto.timingSafeEqual`; only its length (public: 64 hex characters when
 * the host made it) can be learnt from timing.
 */
export const bearerMatches = (expected: string, authorization: string | undefined): boolean => {
  if (authorization === undefined) return false
  const presented = BEARER.exec(authorization)?.[1]
  if (presented === undefined) return false
  const a = Buffer.from(presented, "utf8")
  const b = Buffer.from(expected, "utf8")
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The message of a refused call without a valid token; it never contains the token. */
export const TOKEN_REQUIRED =
  `a valid bearer token is required: send "Authorization: Bearer <token>" with the token ` +
  `the host passed to this plugin in ${TOKEN_ENV}`
