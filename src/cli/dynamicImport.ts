/**
 * `import()` for the CLI. The CLI runs as a bundle compiled through V8's code cache (see launcher.ts),
 * and a script restored from that cache loses the callback Node needs for `import()` inside it
 * ("A dynamic import callback was not specified"). So the launcher, a real module, lends its own
 * `import()` under a registered symbol; elsewhere (tests, the unbundled CLI) the plain one is used.
 *
 * @internal
 */

/** The key under which the launcher lends its `import()`. */
export const importKey: unique symbol = Symbol.for("goplugin-effect/cli/import") as never

type Importer = (specifier: string) => Promise<unknown>

/** Imports a module by URL or specifier, through the launcher's `import()` when there is one. */
export const dynamicImport = (specifier: string): Promise<unknown> => {
  const lent = (globalThis as { [importKey]?: Importer })[importKey]
  return lent !== undefined ? lent(specifier) : import(specifier)
}
