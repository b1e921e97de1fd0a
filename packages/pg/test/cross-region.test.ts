import type { PrivateLinkError } from '@privatelink/core'
import { createConnector, discoverEndpoint, type Endpoint } from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import type { Lab, RdsProxyFront } from '@privatelink/lab'
import { createClient, createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, startProxyLab, zoneA } from './support.js'

// A consumer in us-west-2 reaching an RDS Proxy hosted in us-east-1 through a cross-region
// endpoint. The emulator verifies SigV4 itself, scoped to the service's region: a token signed
// for the consumer's region is refused (bad-signature / wrong-region).
const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront
// The same service behind a proxy whose name carries no region: only the endpoint tells.
let unnamed: { lab: Lab; front: RdsProxyFront }

beforeAll(async () => {
  ;[{ lab, front }, unnamed] = await Promise.all([
    startProxyLab({ region: 'us-west-2', serviceRegion: 'us-east-1' }),
    startProxyLab(
      { region: 'us-west-2', serviceRegion: 'us-east-1' },
      { proxyHost: 'orders-db.proxy.lab.internal' },
    ),
  ])
})
afterAll(() => Promise.all([lab?.close(), unnamed?.lab.close()]))

const discovered = (from: Lab): Promise<Endpoint> =>
  discoverEndpoint({
    endpointId: from.endpoint.id,
    region: from.region,
    credentials: from.aws.credentials,
    ec2ClientConfig: { endpoint: from.aws.endpoint, maxAttempts: 1 },
  })

const options = (from: Lab, proxy: RdsProxyFront) => ({
  proxyHost: proxy.proxyHost,
  user: 'app_user',
  database: target.database,
  credentials: from.aws.issueSession(3600),
  ssl: { ca: from.ca.certificatePem },
  connectorOptions: { locality: zoneA },
})

async function query(run: () => Promise<unknown>): Promise<string> {
  try {
    await run()
    return 'ok'
  } catch (error) {
    return (error as PrivateLinkError).code ?? String(error)
  }
}

describe('a cross-region endpoint (consumer us-west-2, RDS Proxy us-east-1)', () => {
  it('the discovered endpoint names both regions', async () => {
    const endpoint = await discovered(unnamed.lab)
    expect(endpoint).toMatchObject({ region: 'us-west-2', serviceRegion: 'us-east-1' })
  })

  it("createPool signs for the endpoint's service region", async () => {
    const endpoint = await discovered(unnamed.lab)
    const pool = createPool({ ...options(unnamed.lab, unnamed.front), endpoint })
    const outcome = await query(() => pool.query('SELECT 1'))
    await pool.end()
    expect(outcome).toBe('ok')
    expect(unnamed.front.stats().refused).toEqual({})
  })

  it("createClient signs for the endpoint's service region", async () => {
    const client = createClient({
      ...options(unnamed.lab, unnamed.front),
      endpoint: await discovered(unnamed.lab),
    })
    const outcome = await query(async () => {
      await client.connect()
      await client.query('SELECT 1')
    })
    await client.end().catch(() => {})
    expect(outcome).toBe('ok')
  })

  it("a shared Connector: its target's signing region", async () => {
    const connector = createConnector({
      endpoint: await discovered(unnamed.lab),
      port: 5432,
      locality: zoneA,
    })
    const pool = createPool({
      ...options(unnamed.lab, unnamed.front),
      endpoint: undefined,
      connectorOptions: undefined,
      connector,
    })
    const outcome = await query(() => pool.query('SELECT 1'))
    await pool.end()
    connector.close()
    expect(outcome).toBe('ok')
  })

  it("a vpce DNS name (no service region in it): the proxy name's region", async () => {
    const resolver = createResolver({
      servers: [lab.dns.address],
      allowedRanges: lab.allowedRanges,
    })
    const pool = createPool({
      ...options(lab, front),
      endpoint: lab.endpoint.dnsName,
      connectorOptions: { resolver, locality: zoneA },
    })
    expect(front.proxyHost).toMatch(/\.us-east-1\.rds\.amazonaws\.com$/)
    const outcome = await query(() => pool.query('SELECT 1'))
    await pool.end()
    expect(outcome).toBe('ok')
  })

  // Attack round 3, finding 7: the consumer's region given explicitly was accepted, and every
  // connect failed with ERR_PG_TOKEN_SIGNATURE; createRedis refuses the same mistake at the call.
  it.each([
    ['the endpoint names the service region', 'unnamed'],
    ['the proxy name names its region', 'named'],
  ] as const)(
    "region: the consumer's region is refused at the call when %s (createPool and createClient)",
    async (_why, which) => {
      const from = which === 'named' ? { lab, front } : unnamed
      const endpoint = await discovered(from.lab)
      for (const create of [createPool, createClient]) {
        let error: unknown
        try {
          const made = create({ ...options(from.lab, from.front), endpoint, region: 'us-west-2' })
          await made.end()
        } catch (caught) {
          error = caught
        }
        expect(error).toMatchObject({
          code: 'ERR_INVALID_OPTION',
          details: { option: 'region', received: 'us-west-2' },
        })
        expect((error as PrivateLinkError).hint).toMatch(/us-east-1/)
        expect((error as PrivateLinkError).hint).toMatch(/unset/)
      }
    },
  )

  it("an explicit region that is the proxy's stands, also where the endpoint names no service region", async () => {
    const endpoint = await discovered(unnamed.lab)
    const { serviceRegion: _, ...regionless } = endpoint
    for (const given of [endpoint, regionless]) {
      const pool = createPool({
        ...options(unnamed.lab, unnamed.front),
        endpoint: given,
        region: 'us-east-1',
      })
      const outcome = await query(() => pool.query('SELECT 1'))
      await pool.end()
      expect(outcome).toBe('ok')
    }
  })

  it('a region other than both the endpoint names (a proxy in a peered region) is not refused at the call', async () => {
    const pool = createPool({
      ...options(unnamed.lab, unnamed.front),
      endpoint: await discovered(unnamed.lab),
      region: 'eu-west-1',
    })
    // The lab's proxy is in us-east-1, so this one's tokens are refused when it connects.
    expect(await query(() => pool.query('SELECT 1'))).toBe('ERR_PG_TOKEN_SIGNATURE')
    await pool.end()
  })

  it("with password or Secrets Manager auth, region is the secret's default region: not checked", async () => {
    const endpoint = await discovered(unnamed.lab)
    const pool = createPool({
      ...options(unnamed.lab, unnamed.front),
      endpoint,
      region: 'us-west-2',
      auth: { secretId: 'prod/app_user', client: { send: async () => ({}) } } as never,
    })
    await pool.end()
  })
})
