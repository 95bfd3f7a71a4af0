import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds the Go fixtures once, before any test file runs (not inside a test's time limit).
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Tests start real processes and bind real ports; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1
  }
})
