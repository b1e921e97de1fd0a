import { expect, inject, it } from 'vitest'
import { ping, selectOne } from './uses-servers.js'

it('passes after using the servers', async () => {
  expect(inject('pgSource')).toBe('started')
  expect(await selectOne()).toBe(1)
  expect(await ping()).toMatch(/^(\+PONG|none)$/)
})
