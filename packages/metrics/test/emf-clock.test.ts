import { channel } from 'node:diagnostics_channel'
import { createEmfWriter } from '@privatelink/metrics'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { emfProblems } from './emf-spec.js'

// A clock reading that is not ms since the epoch would make CloudWatch drop the whole document:
// the writer puts Date.now() in its place and warns once.
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('createEmfWriter clock', () => {
  it.each([
    ['NaN', () => Number.NaN],
    ['-1', () => -1],
    ['1.5', () => 1.5],
    ["'now'", () => 'now' as unknown as number],
  ])('writes Date.now() instead of %s, with one warning', (_name, clock) => {
    const NOW = Date.UTC(2026, 11, 7, 22, 0, 0)
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] })
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const lines: string[] = []
    const w = createEmfWriter({ write: (line) => lines.push(line), clock })
    for (let i = 0; i < 2; i++) {
      channel('privatelink:connector:connect').publish({ azName: 'us-west-2a', durationMs: 3 })
      w.flush()
    }
    w.close()
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      expect(emfProblems(line), line).toEqual([])
      expect(JSON.parse(line)._aws.Timestamp).toBe(NOW)
    }
    expect(warnings).toHaveBeenCalledTimes(1)
    expect(warnings.mock.calls[0]![1]).toMatchObject({ code: 'PRIVATELINK_METRICS_BAD_CLOCK' })
  })

  it('keeps a good clock as it is', () => {
    const lines: string[] = []
    const w = createEmfWriter({ write: (line) => lines.push(line), clock: () => 1_000 })
    channel('privatelink:connector:connect').publish({ azName: 'us-west-2a', durationMs: 3 })
    w.close()
    expect(JSON.parse(lines[0]!)._aws.Timestamp).toBe(1_000)
  })
})
