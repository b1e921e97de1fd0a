import { setTimeout as sleep } from 'node:timers/promises'
import { EC2Client } from '@aws-sdk/client-ec2'
import {
  createConnector,
  detectLocality,
  discoverEndpoint,
  type Endpoint,
  endpointFromConfig,
  endpointFromEnv,
  isEndpointId,
  PrivateLinkError,
  parseEndpointDnsName,
  parseServiceName,
  zonalDnsName,
} from '@privatelink/core'
import { createAddressMatcher, createResolver, parseCidr, parseIpAddress } from '@privatelink/dns'
import { createEndpointDispatcher, privateApiGateway, sigv4 } from '@privatelink/http'
import { type Lab, startLab } from '@privatelink/lab'
import { createIamTokenProvider, createPool } from '@privatelink/pg'
import { createElastiCacheTokenProvider, createRedis } from '@privatelink/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCredentials, captureError, captureObject } from './support/capture.js'
import { answer, header, ipv4, type Question, startRawDnsServer, TYPE } from './support/dns-wire.js'
import { fc } from './support/fast-check.js'
import { record } from './support/summary.js'

// Issue 15, fuzzing: every public parser, DNS answers (random and malformed packets), EC2 responses
// with missing or odd fields, and hostile option objects. The only acceptable outcomes are a
// result or a PrivateLinkError (or, for a throwing getter or Proxy trap, that very error passed
// through); never another error, a crash or a hang.
const RUNS = Number(process.env['RELIABILITY_FUZZ_RUNS'] ?? 300)

let lab: Lab
beforeAll(async () => {
  lab = await startLab({ privateDnsName: 'api.saas.example.com' })
  addCredentials('lab long-term key', lab.aws.credentials)
})
afterAll(async () => {
  await lab?.close()
})

/** Thrown by hostile getters and Proxy traps: passing it through untouched is fine. */
class Sentinel extends Error {}

interface Tally {
  tried: number
  bad: string[]
}

function judge(tally: Tally, label: string, input: unknown, error: unknown): void {
  tally.tried++
  if (error === undefined) return
  captureError(error)
  if (PrivateLinkError.isInstance(error) || error instanceof Sentinel) return
  if (tally.bad.length < 20)
    tally.bad.push(
      `${label}(${show(input)}): ${(error as Error)?.constructor?.name} ${String((error as Error)?.message ?? error)}`,
    )
  else tally.bad.push(label)
}

function show(value: unknown): string {
  try {
    const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
    return text.length > 120 ? `${text.slice(0, 120)}...` : text
  } catch {
    return typeof value
  }
}

const attempt = (tally: Tally, label: string, input: unknown, run: () => unknown) => {
  try {
    run()
    judge(tally, label, input, undefined)
  } catch (error) {
    judge(tally, label, input, error)
  }
}

const attemptAsync = async (
  tally: Tally,
  label: string,
  input: unknown,
  run: () => Promise<unknown>,
) => {
  try {
    await run()
    judge(tally, label, input, undefined)
  } catch (error) {
    judge(tally, label, input, error)
  }
}

// Strings near the valid ones: real names with characters inserted, removed or swapped.
const near = (valid: string[]) =>
  fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc
      .tuple(fc.constantFrom(...valid), fc.nat(), fc.string({ maxLength: 4 }), fc.nat({ max: 4 }))
      .map(([base, at, insert, cut]) => {
        const i = at % (base.length + 1)
        return base.slice(0, i) + insert + base.slice(i + cut)
      }),
  )

describe('fuzzing', () => {
  it('every public parser: a value or a PrivateLinkError', ({ task }) => {
    const tally: Tally = { tried: 0, bad: [] }
    const serviceNames = [
      'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0',
      'com.amazonaws.us-east-1.s3',
      'aws.sagemaker.us-west-2.notebook',
    ]
    const dnsNames = [
      'vpce-0123456789abcdef0-abcdefgh.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com',
      'vpce-0123456789abcdef0-abcdefgh-us-east-1a.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com',
      'a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com',
    ]
    const cidrs = ['10.0.0.0/8', 'fc00::/7', '127.16.0.0/16', '::ffff:10.0.0.0/104', '0.0.0.0/0']
    fc.assert(
      fc.property(near(serviceNames), (input) => {
        attempt(tally, 'parseServiceName', input, () => parseServiceName(input))
      }),
      { numRuns: RUNS },
    )
    fc.assert(
      fc.property(near(dnsNames), near(['us-east-1a', 'use1-az1']), (input, az) => {
        attempt(tally, 'parseEndpointDnsName', input, () => parseEndpointDnsName(input))
        attempt(tally, 'zonalDnsName', [input, az], () => zonalDnsName(input, az))
        attempt(tally, 'isEndpointId', input, () => {
          if (typeof isEndpointId(input) !== 'boolean') throw new Error('not a boolean')
        })
      }),
      { numRuns: RUNS },
    )
    fc.assert(
      fc.property(fc.oneof(near(cidrs), fc.anything()), (input) => {
        attempt(tally, 'parseCidr', input, () => parseCidr(input))
        attempt(tally, 'parseIpAddress', input, () => parseIpAddress(input))
        attempt(tally, 'createAddressMatcher', input, () => createAddressMatcher([input as string]))
      }),
      { numRuns: RUNS },
    )
    const config = JSON.parse(lab.endpointJson()) as Record<string, unknown>
    fc.assert(
      fc.property(mutations(), fc.boolean(), (mutate, asString) => {
        const mutated = mutate(structuredClone(config))
        const input = asString ? safeJson(mutated) : mutated
        attempt(tally, 'endpointFromConfig', input, () => endpointFromConfig(input as never))
        attempt(tally, 'endpointFromEnv', input, () =>
          endpointFromEnv(undefined, { PRIVATELINK_ENDPOINTS: safeJson(mutated) }),
        )
      }),
      { numRuns: RUNS },
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        attempt(tally, 'endpointFromEnv(text)', text, () =>
          endpointFromEnv(undefined, { PRIVATELINK_ENDPOINTS: text }),
        )
      }),
      { numRuns: RUNS },
    )
    record(task, {
      scenario: 'fuzz: parsers (service/DNS names, IDs, CIDRs, IPs, endpoint config)',
      load: 0,
      faults: 0,
      badInputs: tally.tried,
      failures: tally.bad.length,
      secrets: 0,
    })
    expect(tally.bad).toEqual([])
  })

  it('DNS answers: random and malformed packets', async ({ task }) => {
    const tally: Tally = { tried: 0, bad: [] }
    let packet: (question: Question) => Buffer | undefined = () => undefined
    const server = await startRawDnsServer((question) => packet(question))
    try {
      await fc.assert(
        fc.asyncProperty(malformedAnswer(), fc.constantFrom(0, 4, 6), async (build, family) => {
          packet = build
          const resolver = createResolver({
            servers: [server.address],
            timeoutMs: 100,
            tries: 1,
            allowedRanges: ['10.0.0.0/8', '127.0.0.0/8', 'fc00::/7'],
          })
          const outcome = await Promise.race([
            resolver.resolve('db.fuzz.test', { family: family as 0 | 4 | 6 }).then(
              () => undefined,
              (error: unknown) => error ?? new Error('rejected with nothing'),
            ),
            sleep(3_000).then(() => new Error('hung: no answer within 3 s')),
          ])
          judge(tally, 'resolve', build.label, outcome)
        }),
        { numRuns: Math.min(RUNS, 200) },
      )
    } finally {
      await server.close()
    }
    record(task, {
      scenario: 'fuzz: DNS answers (random bytes, lying counts, bad rdata, pointer loops, TC)',
      load: 0,
      faults: 0,
      badInputs: tally.tried,
      failures: tally.bad.length,
      secrets: 0,
      notes: `${server.queries} queries answered by the fuzzing server`,
    })
    expect(tally.bad).toEqual([])
  })

  it('EC2 responses with missing or odd fields: discovery returns an endpoint or a typed error', async ({
    task,
  }) => {
    const tally: Tally = { tried: 0, bad: [] }
    const real = new EC2Client({
      endpoint: lab.aws.endpoint,
      region: lab.region,
      credentials: lab.aws.credentials,
    })
    const outputs = new Map<string, unknown>()
    const recorded = async (command: { constructor: { name: string } }) => {
      const name = command.constructor.name
      if (!outputs.has(name)) {
        const output = (await real.send(command as never)) as unknown as Record<string, unknown>
        delete output['$metadata']
        outputs.set(name, output)
      }
      return structuredClone(outputs.get(name)) as Record<string, unknown>
    }
    try {
      await discoverEndpoint({ endpointId: lab.endpoint.id, client: { send: recorded as never } })
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat({ max: 3 }), mutations()), { maxLength: 3 }),
          async (edits) => {
            let call = 0
            const client = {
              send: async (command: unknown) => {
                let output: unknown = await recorded(command as never)
                for (const [which, mutate] of edits) if (which === call) output = mutate(output)
                call++
                return output
              },
            }
            await attemptAsync(tally, 'discoverEndpoint', edits.length, async () => {
              const endpoint: Endpoint = await Promise.race([
                discoverEndpoint({ endpointId: lab.endpoint.id, client }),
                sleep(3_000).then(() => {
                  throw new Error('hung')
                }),
              ])
              captureObject(endpoint)
            })
          },
        ),
        { numRuns: Math.min(RUNS, 200) },
      )
    } finally {
      real.destroy()
    }
    record(task, {
      scenario: 'fuzz: EC2 responses with missing or odd fields (discovery)',
      load: 0,
      faults: 0,
      badInputs: tally.tried,
      failures: tally.bad.length,
      secrets: 0,
    })
    expect(tally.bad).toEqual([])
  })

  it('hostile option objects: BigInt, circular, throwing getters, Proxies, wrong types', async ({
    task,
  }) => {
    const tally: Tally = { tried: 0, bad: [] }
    const endpoint = lab.endpoint
    const credentials = lab.aws.issueSession(3600)
    addCredentials('STS session', credentials)
    const made: (() => unknown)[] = []
    const factories: [string, Record<string, unknown>, (options: never) => unknown][] = [
      [
        'createConnector',
        { endpoint, port: 443, locality: null, healthCheck: { intervalMs: 0 } },
        (o) => {
          const connector = createConnector(o)
          made.push(() => connector.close())
        },
      ],
      ['createResolver', { servers: [lab.dns.address], timeoutMs: 100 }, (o) => createResolver(o)],
      [
        'createEndpointDispatcher',
        { endpoint, locality: null, healthCheck: { intervalMs: 0 } },
        (o) => {
          const dispatcher = createEndpointDispatcher(o)
          made.push(() => dispatcher.destroy())
        },
      ],
      [
        'createPool',
        {
          endpoint,
          proxyHost: 'p.proxy-abc.us-west-2.rds.amazonaws.com',
          user: 'app_user',
          credentials,
          connectorOptions: { healthCheck: { intervalMs: 0 } },
        },
        (o) => {
          const pool = createPool(o)
          made.push(() => pool.end())
        },
      ],
      [
        'createRedis',
        {
          endpoint,
          servername: 'master.c.abc123.usw2.cache.amazonaws.com',
          lazyConnect: true,
          auth: { password: 'fuzz-password-value-0001' },
          connectorOptions: { healthCheck: { intervalMs: 0 } },
        },
        (o) => {
          const redis = createRedis(o)
          redis.on('error', captureError)
          made.push(() => redis.disconnect())
        },
      ],
      [
        'createIamTokenProvider',
        {
          hostname: 'p.proxy-abc.us-west-2.rds.amazonaws.com',
          username: 'app_user',
          region: 'us-west-2',
          credentials,
        },
        (o) => createIamTokenProvider(o),
      ],
      [
        'createElastiCacheTokenProvider',
        { userId: 'app-user', cacheName: 'lab-cache', region: 'us-west-2', credentials },
        (o) => createElastiCacheTokenProvider(o),
      ],
      ['sigv4', { service: 'execute-api', region: 'us-west-2', credentials }, (o) => sigv4(o)],
      [
        'privateApiGateway',
        {
          apiId: 'a1b2c3d4e5',
          stage: 'prod',
          region: 'us-west-2',
          endpoint,
          healthCheck: { intervalMs: 0 },
        },
        (o) => {
          const api = privateApiGateway(o)
          made.push(() => api.dispatcher.destroy())
        },
      ],
      ['endpointFromConfig', JSON.parse(lab.endpointJson()), (o) => endpointFromConfig(o)],
    ]
    fc.assert(
      fc.property(
        fc.nat({ max: factories.length - 1 }),
        fc.nat(),
        hostileValue(),
        fc.boolean(),
        (which, keyIndex, hostile, whole) => {
          const [name, base, factory] = factories[which]!
          const keys = [...Object.keys(base), 'unknownOption', '__proto__', 'constructor']
          const key = keys[keyIndex % keys.length]!
          const value = hostile()
          const options = whole ? value : withOption(base, key, value)
          attempt(tally, name, whole ? 'options' : key, () => factory(options as never))
          for (const close of made.splice(0))
            try {
              const closed = close()
              if (closed instanceof Promise) closed.catch(captureError)
            } catch (error) {
              captureError(error)
            }
        },
      ),
      { numRuns: RUNS * 2 },
    )
    await attemptAsync(tally, 'detectLocality', 'hostile env', () =>
      detectLocality({ env: new Proxy({}, { get: () => 42 }) as never, timeoutMs: 50 }),
    )
    record(task, {
      scenario: 'fuzz: hostile option objects (10 factories)',
      load: 0,
      faults: 0,
      badInputs: tally.tried,
      failures: tally.bad.length,
      secrets: 0,
    })
    expect(tally.bad).toEqual([])
  })
})

function withOption(base: Record<string, unknown>, key: string, value: unknown) {
  const options = { ...base }
  Object.defineProperty(options, key, {
    value,
    enumerable: true,
    configurable: true,
    writable: true,
  })
  return options
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch {
    return '{'
  }
}

/** Values no option should accept, each made fresh (circular structures, Proxies, getters). */
function hostileValue(): fc.Arbitrary<() => unknown> {
  const circular = () => {
    const value: Record<string, unknown> = { a: 1 }
    value['self'] = value
    value['endpoint'] = value
    return value
  }
  const getter = () =>
    Object.defineProperty({}, 'endpoint', {
      enumerable: true,
      get() {
        throw new Sentinel('getter')
      },
    })
  const allGetters = () =>
    new Proxy(
      {},
      {
        get() {
          throw new Sentinel('proxy get')
        },
        has() {
          throw new Sentinel('proxy has')
        },
        ownKeys() {
          throw new Sentinel('proxy ownKeys')
        },
        getOwnPropertyDescriptor() {
          throw new Sentinel('proxy descriptor')
        },
        getPrototypeOf() {
          throw new Sentinel('proxy prototype')
        },
      },
    )
  return fc.oneof(
    fc.constantFrom<() => unknown>(
      () => 1n,
      () => 2n ** 70n,
      circular,
      getter,
      allGetters,
      () => Symbol('hostile'),
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
      () => -1,
      () => 2 ** 53,
      () => '',
      () => 'x'.repeat(100_000),
      () => null,
      () => [],
      () => [circular()],
      () => () => {
        throw new Sentinel('function option')
      },
      () => Object.create(null),
      () => new Date(Number.NaN),
      () => ({
        toString: () => {
          throw new Sentinel('toString')
        },
        valueOf: () => {
          throw new Sentinel('valueOf')
        },
      }),
      () => ({
        [Symbol.toPrimitive]: () => {
          throw new Sentinel('toPrimitive')
        },
      }),
    ),
    fc.anything().map((value) => () => value),
  )
}

/** Edits of a JSON-like tree: delete, null, retype, duplicate or blow up a random field. */
function mutations(): fc.Arbitrary<(value: unknown) => unknown> {
  const edit = fc.tuple(
    fc.nat(),
    fc.constantFrom(
      'delete',
      'null',
      'number',
      'string',
      'empty-array',
      'object',
      'long',
      'negative',
      'bigger',
    ),
  )
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => (value: unknown) => {
    for (const [pick, how] of edits) {
      const slots: [Record<string, unknown>, string][] = []
      const walk = (node: unknown) => {
        if (node === null || typeof node !== 'object') return
        for (const key of Object.keys(node)) {
          slots.push([node as Record<string, unknown>, key])
          walk((node as Record<string, unknown>)[key])
        }
      }
      walk(value)
      if (slots.length === 0) return value
      const [parent, key] = slots[pick % slots.length]!
      const current = parent[key]
      const replacement: Record<string, () => unknown> = {
        null: () => null,
        number: () => 7,
        string: () => 'odd value',
        'empty-array': () => [],
        object: () => ({ unexpected: true }),
        long: () => 'z'.repeat(70_000),
        negative: () => -1,
        bigger: () => (Array.isArray(current) ? [...current, ...current] : current),
      }
      if (how === 'delete') delete parent[key]
      else parent[key] = replacement[how]!()
    }
    return value
  })
}

/** DNS responses a broken or hostile server might send, as builders of the reply to a question. */
function malformedAnswer(): fc.Arbitrary<
  ((question: Question) => Buffer | undefined) & { label: string }
> {
  const labelled = (label: string, build: (question: Question) => Buffer | undefined) =>
    Object.assign(build, { label })
  return fc.oneof(
    fc.uint8Array({ maxLength: 600 }).map((bytes) =>
      labelled('random bytes with the query ID', (q) => {
        const out = Buffer.from(bytes.length < 2 ? [0, 0, ...bytes] : bytes)
        out.writeUInt16BE(q.id, 0)
        return out
      }),
    ),
    fc
      .record({
        counts: fc.tuple(fc.nat(65535), fc.nat(65535), fc.nat(65535), fc.nat(65535)),
        flags: fc.nat(65535),
        tail: fc.uint8Array({ maxLength: 100 }),
      })
      .map(({ counts, flags, tail }) =>
        labelled('lying counts and flags', (q) =>
          Buffer.concat([header(q.id, counts, flags | 0x8000), q.raw, Buffer.from(tail)]),
        ),
      ),
    fc
      .record({
        type: fc.constantFrom(TYPE.A, TYPE.AAAA, 5, 16, 0, 65535),
        ttl: fc.oneof(fc.nat(), fc.constant(0xffffffff)),
        data: fc.uint8Array({ maxLength: 40 }),
        n: fc.integer({ min: 1, max: 300 }),
      })
      .map(({ type, ttl, data, n }) =>
        labelled('answers with odd types, TTLs and rdata', (q) =>
          Buffer.concat([
            header(q.id, [1, n, 0, 0]),
            q.raw,
            ...Array.from({ length: n }, () => answer(type, ttl, Buffer.from(data))),
          ]),
        ),
      ),
    fc.record({ address: fc.ipV4(), ttl: fc.nat(), cut: fc.nat(30) }).map(({ address, ttl, cut }) =>
      labelled('a valid A answer cut short, or public', (q) => {
        const full = Buffer.concat([
          header(q.id, [1, 1, 0, 0]),
          q.raw,
          answer(TYPE.A, ttl, ipv4(address)),
        ])
        return full.subarray(0, full.length - cut)
      }),
    ),
    fc.constant(
      labelled('a name pointer loop', (q) => {
        // The answer's name points at itself: a decoder that follows pointers blindly never ends.
        const record = answer(TYPE.A, 60, ipv4('10.0.0.1'))
        const at = 12 + q.raw.length
        record.writeUInt16BE(0xc000 | at, 0)
        return Buffer.concat([header(q.id, [1, 1, 0, 0]), q.raw, record])
      }),
    ),
    fc.constant(
      labelled('truncated (TC), with no TCP server behind it', (q) =>
        Buffer.concat([header(q.id, [1, 0, 0, 0], 0x8600), q.raw]),
      ),
    ),
    fc.constant(labelled('silence', () => undefined)),
    fc
      .nat(65535)
      .map((id) =>
        labelled('a well-formed answer with the wrong ID', (q) =>
          Buffer.concat([
            header(id === q.id ? id ^ 1 : id, [1, 1, 0, 0]),
            q.raw,
            answer(TYPE.A, 60, ipv4('10.0.0.1')),
          ]),
        ),
      ),
  )
}
