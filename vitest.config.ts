import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Tests start real processes and bind real ports; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1
  }
})
