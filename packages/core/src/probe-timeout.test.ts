import { describe, expect, it } from 'vitest'
import { probeTimeout } from './probe-timeout.js'

describe('probeTimeout', () => {
  it('is 1000 ms until a connect time is measured', () => {
    expect(probeTimeout(undefined, undefined)).toBe(1_000)
    expect(probeTimeout(undefined, 5)).toBe(1_000)
  })
  it('is 10x connect plus handshake, 300 to 1000 ms', () => {
    expect(probeTimeout(1, 4)).toBe(300)
    expect(probeTimeout(20, 30)).toBe(500)
    expect(probeTimeout(2, undefined)).toBe(300)
    expect(probeTimeout(80, 120)).toBe(1_000)
  })
})
