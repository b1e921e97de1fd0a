import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { SummaryReporter } from './test/reliability/support/summary-reporter.js'

const source = (dir: string) =>
  fileURLToPath(new URL(`./packages/${dir}/src/index.ts`, import.meta.url))

// `pnpm test:reliability`: faults under load, rotation, DNS failures, fuzzing, secret and resource
// hygiene (issue 15). Its files end in .reliability.ts so the main config's test/**/*.test.ts never
// picks them up; they import every package from its source, as the main suite does.
export default defineConfig({
  resolve: {
    alias: {
      '@privatelink/base': source('base'),
      '@privatelink/dns': source('dns'),
      '@privatelink/core': source('core'),
      '@privatelink/http': source('http'),
      '@privatelink/aws-sdk': source('aws-sdk'),
      '@privatelink/pg': source('pg'),
      '@privatelink/redis': source('redis'),
      '@privatelink/mysql': source('mysql'),
      '@privatelink/metrics': source('metrics'),
      '@privatelink/lab': source('lab'),
    },
  },
  test: {
    name: 'reliability',
    include: ['test/reliability/**/*.reliability.ts'],
    globalSetup: ['./test/support/global-setup.ts'],
    setupFiles: ['./test/reliability/support/capture-setup.ts'],
    env: {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // Load tests on a shared 2-core machine: one file at a time, so each file's load is its own.
    fileParallelism: false,
    // gc() before heap readings in the resource-hygiene file.
    execArgv: ['--expose-gc'],
    // The JSON report is what .ci/run counts, as for the main suite.
    reporters: [
      'default',
      new SummaryReporter(),
      ['json', { outputFile: '.tmp/vitest-results.json' }],
    ],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
