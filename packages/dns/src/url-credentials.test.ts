import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseCidr } from './cidr.js'
import { invalidOption } from './errors.js'
import { createResolver } from './resolver.js'

// A connection URL passed in the wrong option (or as a hostname) is echoed in the error that
// refuses it: its password must not be (attack round 3, finding 2).
const SECRET = 'correct-horse-battery-staple-0001'
const URLS = [
  `postgres://app:${SECRET}@db.proxy-abc.us-east-1.rds.amazonaws.com:5432/app`,
  `rediss://default:${SECRET}@master.c.use1.cache.amazonaws.com:6379`,
  `app:${SECRET}@db.proxy-abc.us-east-1.rds.amazonaws.com`,
  `postgres://db.example.com/app?password=${SECRET}`,
  // So long that a cut at 80 characters would fall inside the password.
  `postgres://app:${SECRET.repeat(4)}@db.example.com/app`,
]

/** Everything a log line, JSON or util.inspect could show of the error. */
const shown = (error: unknown) =>
  `${String(error)} ${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: 8 })}`

const thrown = async (run: () => unknown): Promise<unknown> => {
  try {
    await run()
  } catch (error) {
    return error
  }
  throw new Error('did not throw')
}

describe.each(URLS)('the password in %s', (url) => {
  it('is not in invalidOption details.received or the message', () => {
    const error = invalidOption('proxyHost', 'a host name', url)
    expect(shown(error)).not.toContain(SECRET.slice(0, 12))
    expect(error.details['received']).toContain('***')
  })

  it('is not in a CIDR refusal', async () => {
    const error = await thrown(() => parseCidr(url))
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' })
    expect(shown(error)).not.toContain(SECRET.slice(0, 12))
  })

  it('is not in ERR_DNS_INVALID_NAME (message, details, hostname)', async () => {
    const resolver = createResolver({ servers: ['127.0.0.1:1'] })
    const error = await thrown(() => resolver.resolve(url))
    expect(error).toMatchObject({ code: 'ERR_DNS_INVALID_NAME' })
    expect(shown(error)).not.toContain(SECRET.slice(0, 12))
  })
})
