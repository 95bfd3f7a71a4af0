/**
 * The manifest's `hosts` list: when given, an exec whose host (X-Host / `x-host` / `host`) is not in it is
 * refused. Ping is not checked: it only proves the plugin is alive. Apart from the token check (`Access`)
 * so that the stdio transport, which has no token, does not load `node:crypto` at start-up.
 *
 * @since 0.2.0
 */

/**
 * Checks the caller's host against the `hosts` list: answers `undefined` when allowed (or when the list
 * is absent or empty), else the refusal message, naming the host and the allowed ones. `source` says
 * where the host name came from, e.g. "X-Host header".
 *
 * @since 0.1.0
 */
export const hostRefusal = (
  hosts: ReadonlyArray<string> | undefined,
  host: string,
  source: string
): string | undefined => {
  if (hosts === undefined || hosts.length === 0 || hosts.includes(host)) return undefined
  const allowed = `allowed hosts: ${hosts.map((h) => JSON.stringify(h)).join(", ")}`
  return host === ""
    ? `the call does not name its host (${source}) and this plugin serves only named hosts; ${allowed}`
    : `host ${JSON.stringify(host)} (${source}) is not allowed to call this plugin; ${allowed}`
}
