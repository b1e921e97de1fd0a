import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = (dir: string) =>
  fileURLToPath(new URL(`./packages/${dir}/src/index.ts`, import.meta.url))

// Tests import every package from its source, so `pnpm test` needs no build first.
const alias = {
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
  privatelink: source('cli'),
}

const packages = [
  'base',
  'dns',
  'core',
  'http',
  'aws-sdk',
  'pg',
  'redis',
  'mysql',
  'metrics',
  'lab',
  'cli',
]

export default defineConfig({
  resolve: { alias },
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    // Connectors detect locality by default; tests must never reach a real metadata service.
    // The AWS SDK's documented switch for its "Node 22 from January 2027" notice (aws-sdk-js-v3
    // #7983): a test that runs a child on an older Node must not print it as if it were a result.
    env: {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // The JSON report feeds the one-line summary .ci/run prints.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
    testTimeout: 20_000,
    // CI runs the suite four times on a shared 2-core machine; a test that fails once there is run
    // once more (and reported as flaky), so a starved timer does not fail the whole submission.
    retry: process.env['CI'] ? 1 : 0,
    hookTimeout: 60_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name,
          include: [`packages/${name}/src/**/*.test.ts`, `packages/${name}/test/**/*.test.ts`],
        },
      })),
      { extends: true as const, test: { name: 'integration', include: ['test/**/*.test.ts'] } },
    ],
  },
})
