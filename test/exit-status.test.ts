import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url))
const config = fileURLToPath(new URL('./support/exit-status/vitest.config.ts', import.meta.url))

/**
 * Runs one fixture of test/support/exit-status in a child vitest with the suite's global setup,
 * told to start its own servers (embedded PostgreSQL, redis-server) as on a machine with nothing
 * on loopback.
 */
async function runFixture(name: string): Promise<{ code: number | null; output: string }> {
  // This worker's own VITEST_* variables would make the child think it is a worker too.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')),
  )
  const child = spawn(process.execPath, [vitest, 'run', '--config', config, name], {
    cwd: root,
    env: { ...env, PRIVATELINK_TEST_SERVICES: 'start', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, output }
}

describe('the test command exit status (issue 34)', () => {
  it('is non-zero when a test fails and zero when all pass, with the servers the setup started', async () => {
    const [failing, passing] = await Promise.all([
      runFixture('fails.fixture.ts'),
      runFixture('passes.fixture.ts'),
    ])
    // The failing run did reach its deliberate failure (servers up and used), and said so.
    expect(failing.output, failing.output).toContain(
      "expected 'this test' to be 'deliberately failing'",
    )
    expect(failing.code, failing.output).toBe(1)
    expect(passing.output, passing.output).toMatch(/Tests\s+1 passed/)
    expect(passing.code, passing.output).toBe(0)
  }, 100_000)
})
