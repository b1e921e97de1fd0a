import { describe, expect, it } from 'vitest'
import { runDemo } from '../examples/run-demo.js'

describe('the README demo', () => {
  it('moves traffic off a blackholed zone without a failed request, and back after restore', async () => {
    const lines: string[] = []
    const summary = await runDemo((line) => lines.push(line))
    expect(summary.errors).toBe(0)
    expect(summary.ownZone).toBe('us-west-2b')
    expect(summary.leakGuard).toBe('ERR_DNS_NOT_PRIVATE')
    const only = (bytes: Record<string, number>) =>
      Object.entries(bytes)
        .filter(([, b]) => b > 0)
        .map(([zone]) => zone)
    expect(only(summary.healthy)).toEqual(['us-west-2b'])
    expect(only(summary.duringBlackhole)).not.toContain('us-west-2b')
    expect(only(summary.afterRestore)).toEqual(['us-west-2b'])
  }, 60_000)
})
