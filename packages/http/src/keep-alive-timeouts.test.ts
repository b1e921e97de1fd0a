import { describe, expect, it } from 'vitest'
import { keepAliveTimeouts } from './keep-alive-timeouts.js'

describe('keepAliveTimeouts', () => {
  it("keeps undici's 4 s and caps a server's Keep-Alive hint at four fifths of the path's 350 s", () => {
    // undici follows `Keep-Alive: timeout=N` up to keepAliveMaxTimeout, 10 minutes by default.
    expect(keepAliveTimeouts(undefined, 350_000)).toEqual({
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 280_000,
    })
    expect(keepAliveTimeouts(60_000, 350_000)).toEqual({
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 280_000,
    })
  })

  it('stays under a path shorter than the defaults', () => {
    expect(keepAliveTimeouts(undefined, 3_000)).toEqual({
      keepAliveTimeout: 2_399,
      keepAliveMaxTimeout: 2_400,
    })
  })

  it('refuses a keepAliveTimeoutMs near or above the path timeout, with a hint', () => {
    let thrown: unknown
    try {
      keepAliveTimeouts(300_000, 350_000)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'keepAliveTimeoutMs', expected: 'below 280000', received: '300000' },
    })
    expect((thrown as { hint: string }).hint).toMatch(/forgets a connection idle for 350 s/)
    expect(() => keepAliveTimeouts(-1, 350_000)).toThrow(/keepAliveTimeoutMs/)
  })
})
