import { inspect } from 'node:util'
import { PrivateLinkError } from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { createClient, createIamTokenProvider, createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zoneA } from './support.js'

// Options are checked at the call: a secret in the wrong option is described, never echoed; a
// revoked Proxy or a throwing getter anywhere pg reads is ERR_INVALID_OPTION naming the option,
// never a raw TypeError (at the call or later).
let lab: Lab
beforeAll(async () => {
  lab = await startLab({
    services: [{ name: 'pg', port: 5432, target: { host: '127.0.0.1', port: 9 } }],
  })
})
afterAll(() => lab?.close())

const PROXY = 'orders.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com'
const SECRET = 'correct-horse-battery-staple-0123456789'

type Options = Record<string, unknown>
const base = (): Options => ({
  endpoint: { ...lab.endpoint },
  proxyHost: PROXY,
  port: 5432,
  user: 'app_user',
  database: 'orders',
  region: 'us-west-2',
  credentials: { accessKeyId: 'AKIAEXAMPLEKEY000000', secretAccessKey: 'x' },
  ssl: { ca: lab.ca.certificatePem, insecure: false },
  profile: 'lambda',
  connectorOptions: { locality: zoneA, healthCheck: { timeoutMs: 500 } },
  handshakeTimeoutMs: 5000,
  refreshMarginMs: 60_000,
  clock: Date.now,
  max: 2,
  application_name: 'tests',
})
const withSecret = (): Options => ({
  ...base(),
  auth: {
    secretId: 'prod/app_user',
    region: 'us-west-2',
    client: { send: async () => ({}) },
  },
})
const withClientConfig = (): Options => ({
  ...base(),
  auth: { secretId: 'prod/app_user', clientConfig: { region: 'us-west-2' } },
})
const withFailover = (): Options => ({
  ...base(),
  failover: [
    {
      endpoint: { ...lab.endpoint },
      proxyHost: 'orders.proxy-bbbbbbbbbbbb.us-east-1.rds.amazonaws.com',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAEXAMPLEKEY000001', secretAccessKey: 'y' },
    },
  ],
})

function revoked(kind: 'object' | 'function' = 'object'): unknown {
  const { proxy, revoke } = Proxy.revocable(kind === 'object' ? {} : () => {}, {})
  revoke()
  return proxy
}

/** Options with `value` at `path` ('ssl.ca', 'failover[0].endpoint.zones'). */
function at(options: Options, path: string, put: (holder: Options, key: string) => void): Options {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.')
  let holder: Options = options
  for (const key of keys.slice(0, -1)) holder = holder[key] as Options
  put(holder, keys.at(-1)!)
  return options
}
const setTo = (value: unknown) => (holder: Options, key: string) => {
  holder[key] = value
}
const throwingGetter = (holder: Options, key: string) => {
  Object.defineProperty(holder, key, {
    enumerable: true,
    configurable: true,
    get() {
      throw new TypeError(`getter ${key} throws`)
    },
  })
}

/** What createPool and createClient do with these options: the error, or 'created'. */
function outcome(build: (options: never) => { end(): Promise<void> }, options: unknown) {
  try {
    const made = build(options as never)
    void made.end()
    return 'created'
  } catch (error) {
    return error
  }
}

const PATHS: [string, () => Options][] = [
  ...[
    'endpoint',
    'proxyHost',
    'port',
    'user',
    'database',
    'region',
    'credentials',
    'ssl',
    'profile',
    'connector',
    'connectorOptions',
    'handshakeTimeoutMs',
    'refreshMarginMs',
    'clock',
    'max',
    'application_name',
  ].map((key): [string, () => Options] => [key, base]),
  ['auth', withSecret],
  ['tokenProvider', base],
  ['failover', base],
  ['ssl.ca', base],
  ['ssl.insecure', base],
  ['connectorOptions.locality', base],
  ['connectorOptions.healthCheck', base],
  ['connectorOptions.healthCheck.timeoutMs', base],
  ['endpoint.zones', base],
  ['endpoint.region', base],
  ['auth.secretId', withSecret],
  ['auth.region', withSecret],
  ['auth.client', withSecret],
  ['auth.client.send', withSecret],
  ['auth.clientConfig', withClientConfig],
  ['auth.clientConfig.region', withClientConfig],
  ['failover[0]', withFailover],
  ['failover[0].endpoint', withFailover],
  ['failover[0].endpoint.zones', withFailover],
  ['failover[0].proxyHost', withFailover],
  ['failover[0].credentials', withFailover],
]

describe('options holding a revoked Proxy or a throwing getter', () => {
  it('the baseline options are valid (pool and client)', async () => {
    for (const build of [createPool, createClient]) {
      for (const options of [base(), withSecret(), withClientConfig()])
        expect(outcome(build, options)).toBe('created')
    }
    expect(outcome(createPool, withFailover())).toBe('created')
  })

  for (const [name, build] of [
    ['createPool', createPool],
    ['createClient', createClient],
  ] as const) {
    it.each(PATHS)(`${name}: a revoked Proxy at %s`, (path, make) => {
      if (name === 'createClient' && path.startsWith('failover')) return
      for (const kind of ['object', 'function'] as const) {
        const error = outcome(build, at(make(), path, setTo(revoked(kind))))
        expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
        expect((error as PrivateLinkError).details['option']).toBe(path)
      }
    })

    it.each(PATHS)(`${name}: a throwing getter at %s`, (path, make) => {
      if (name === 'createClient' && path.startsWith('failover')) return
      const error = outcome(build, at(make(), path, throwingGetter))
      expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
      expect((error as PrivateLinkError).details['option']).toBe(path)
    })

    // Found by the reliability fuzzer: the pinning monitor read String(user) before validation,
    // and an object with no primitive form made that a raw TypeError.
    it(`${name}: a user with no primitive form is ERR_INVALID_OPTION naming user`, () => {
      for (const user of [Object.create(null), [Object.create(null)]]) {
        const error = outcome(build, { ...base(), user })
        expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
        expect((error as PrivateLinkError).details['option']).toBe('user')
      }
    })

    it(`${name}: the options object itself revoked`, () => {
      const error = outcome(build, revoked())
      expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
      expect((error as PrivateLinkError).details['option']).toBe('options')
    })
  }

  it.each(['hostname', 'port', 'username', 'region', 'credentials', 'clock', 'refreshMarginMs'])(
    'createIamTokenProvider: a revoked Proxy or a throwing getter at %s',
    (path) => {
      const options = (): Options => ({
        hostname: PROXY,
        port: 5432,
        username: 'app_user',
        region: 'us-west-2',
        credentials: { accessKeyId: 'AKIAEXAMPLEKEY000000', secretAccessKey: 'x' },
        clock: Date.now,
        refreshMarginMs: 1000,
      })
      expect(createIamTokenProvider(options() as never).hostname).toBe(PROXY)
      for (const put of [setTo(revoked()), throwingGetter]) {
        let error: unknown
        try {
          createIamTokenProvider(at(options(), path, put) as never)
        } catch (caught) {
          error = caught
        }
        expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
        expect((error as PrivateLinkError).details['option']).toBe(path)
      }
    },
  )
})

describe('a secret in the wrong option is described, never echoed', () => {
  const shown = (error: unknown) =>
    `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY })}`

  it.each([
    ['auth', { auth: SECRET }],
    ['ssl', { ssl: SECRET }],
    ['ssl.insecure', { ssl: { insecure: SECRET } }],
    ['auth.password', { auth: { password: [SECRET] } }],
    ['password', { password: SECRET }],
    ['connectionString', { connectionString: `postgres://app_user:${SECRET}@db/orders` }],
    ['tokenProvider', { tokenProvider: SECRET }],
    ['options', SECRET],
  ])('%s', (option, bad) => {
    for (const build of [createPool, createClient]) {
      const options = typeof bad === 'string' ? bad : { ...base(), ...bad }
      const error = outcome(build, options)
      expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
      expect((error as PrivateLinkError).details['option']).toBe(option)
      expect(shown(error)).not.toContain(SECRET)
      expect(shown(error)).not.toContain(SECRET.slice(0, 12))
    }
  })

  it('says what it was: the type, and a string its length', () => {
    const error = outcome(createPool, { ...base(), auth: SECRET }) as PrivateLinkError
    expect(error.details['received']).toBe(`a string of ${SECRET.length} characters`)
    expect(error.message).toMatch(/'auth'/)
  })

  it('createIamTokenProvider: credentials given as a string', () => {
    let error: unknown
    try {
      createIamTokenProvider({
        hostname: PROXY,
        username: 'app_user',
        region: 'us-west-2',
        credentials: SECRET as never,
      })
    } catch (caught) {
      error = caught
    }
    expect(PrivateLinkError.isInstance(error) && error.details['option']).toBe('credentials')
    expect(shown(error)).not.toContain(SECRET)
  })
})

// A connection URL pasted where a host name belongs carries its password: it is refused naming
// the option, the URL shown without its credentials (attack round 3, finding 2).
describe('a connection URL in a host option is refused without its password', () => {
  const shown = (error: unknown) =>
    `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY })}`
  const urls = [
    `postgres://app_user:${SECRET}@${PROXY}:5432/orders`,
    `app_user:${SECRET}@${PROXY}`,
    `postgresql://${PROXY}/orders?password=${SECRET}`,
  ]
  const cases: [string, (url: string) => Options][] = [
    ['proxyHost', (url) => ({ ...base(), proxyHost: url })],
    ['host', (url) => ({ ...base(), host: url })],
    ['endpoint', (url) => ({ ...base(), endpoint: url })],
    ['failover[0].proxyHost', (url) => at(withFailover(), 'failover[0].proxyHost', setTo(url))],
  ]
  for (const url of urls)
    it.each(cases)(`%s: ${url.replace(SECRET, '<password>')}`, (option, make) => {
      // createClient takes no failover.
      const builds = option.startsWith('failover') ? [createPool] : [createPool, createClient]
      for (const build of builds) {
        const error = outcome(build, make(url))
        expect(PrivateLinkError.isInstance(error) && error.code).toBe('ERR_INVALID_OPTION')
        expect((error as PrivateLinkError).details['option']).toBe(option)
        expect(shown(error)).not.toContain(SECRET.slice(0, 12))
      }
    })
})
