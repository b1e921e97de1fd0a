import { expect, inject, it } from 'vitest'
import { ping, selectOne } from './uses-servers.js'

// Fails on purpose: the child run's exit status must say so, whatever servers were started.
it('fails after using the servers', async () => {
  expect(inject('pgSource')).toBe('started')
  expect(await selectOne()).toBe(1)
  expect(await ping()).toMatch(/^(\+PONG|none)$/)
  expect('this test').toBe('deliberately failing')
})
