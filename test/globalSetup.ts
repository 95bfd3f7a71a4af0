/**
 * Before any test file runs: builds the Go fixtures once (go-plugin 1.0.1; about 30 s on a cold
 * cache), so that no test's hook has to, and two test files never build at the same time. Skipped when
 * the Go toolchain is missing: the go-plugin tests then fail with what to install.
 */
import { goFixtures, toolchainMissing } from "./goFixtures.js"

export default function setup(): void {
  if (toolchainMissing() === undefined) goFixtures()
}
