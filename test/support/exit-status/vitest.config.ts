import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The child vitest of test/exit-status.test.ts: the suite's own global setup (which finds or
// starts the servers), one fixture file, and no JSON report (that file belongs to the outer run).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    globalSetup: [fileURLToPath(new URL('../global-setup.ts', import.meta.url))],
    include: ['*.fixture.ts'],
    reporters: ['default'],
    hookTimeout: 60_000,
    testTimeout: 20_000,
  },
})
