import type { ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Signer } from '@aws-sdk/rds-signer'
import { createEndpointDispatcher } from '@privatelink/http'
import { type Lab, rdsProxyFront, startLab } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { createRedis } from '@privatelink/redis'
import { AwsPgPoolClient } from 'aws-advanced-nodejs-wrapper/pg'
import pg from 'pg'
import { Agent, fetch, request } from 'undici'
import { HOST, startServer } from './http.js'
import type { Client } from './topology-load.js'
import { useLabResolver } from './topology-resolver.js'

/** One way of talking to the service: ours, or a baseline as users write it today. */
export interface Variant {
  name: string
  /** Ours (default options) or today's way. */
  ours: boolean
  /** Ours: the baseline each ratio is taken against. */
  versus?: string
  /** Operations per steady round, as a share of the package's (a slow baseline runs fewer). */
  scale?: number
  create(): Promise<Client>
}

/** One package's lab, service and variants. */
export interface PackagePlan {
  name: 'pg' | 'redis' | 'http'
  /** The lab service whose zone counters tell where connections went. */
  service: string
  lab: Lab
  concurrency: number
  /** Operations per variant and steady round. */
  operations: number
  variants: Variant[]
  close(): Promise<void>
}

/** The lab's zone `a` is the caller's: the metadata services say so, and so does the environment. */
function environment(lab: Lab): void {
  Object.assign(process.env, lab.metadata.env('ec2'), {
    AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: lab.aws.credentials.secretAccessKey,
    AWS_REGION: lab.region,
  })
  delete process.env['AWS_SESSION_TOKEN']
  delete process.env['AWS_PROFILE']
}

const portOf = (lab: Lab, port: number) => lab.endpoint.zones[0]!.portMap?.[String(port)] ?? port

/**
 * PostgreSQL through the lab's RDS Proxy emulator (TLS verify-full, IAM tokens checked against
 * the lab's keys). The proxy's name is the endpoint's private DNS name, as a Route 53 private
 * hosted zone or the service's private DNS gives it, so pg verifies the certificate against it.
 */
export async function pgPlan(quick: boolean): Promise<PackagePlan> {
  const url = new URL(process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  const database = url.pathname.slice(1) || 'postgres'
  const front = rdsProxyFront({
    proxyHost: 'bench-db.proxy-abcdefghijkl.us-west-2.rds.amazonaws.com',
    upstream: {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username || 'postgres'),
      database,
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    },
  })
  const lab = await startLab({
    topology: {},
    privateDnsName: front.proxyHost,
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
  environment(lab)
  const restoreLookup = useLabResolver(lab)
  const port = portOf(lab, 5432)
  const ca = lab.ca.certificatePem
  const user = 'app_user'
  const pooled = (pool: { query(text: string): Promise<unknown>; end(): Promise<unknown> }) => ({
    op: () => pool.query('SELECT 1'),
    close: async () => {
      await pool.end()
    },
  })
  return {
    name: 'pg',
    service: 'postgres',
    lab,
    concurrency: 8,
    operations: quick ? 400 : 1_500,
    variants: [
      {
        name: 'pg.Pool + rds-signer',
        ours: false,
        create: async () => {
          const signer = new Signer({ hostname: front.proxyHost, port, username: user })
          return pooled(
            new pg.Pool({
              host: front.proxyHost,
              port,
              user,
              database,
              ssl: { ca },
              password: () => signer.getAuthToken(),
              max: 8,
            }),
          )
        },
      },
      {
        name: 'aws-advanced-nodejs-wrapper pool, IAM plugin',
        ours: false,
        scale: 0.3,
        create: async () =>
          pooled(
            new AwsPgPoolClient(
              {
                host: front.proxyHost,
                port,
                user,
                database,
                ssl: { ca },
                plugins: 'iam',
                iamRegion: lab.region,
              },
              { maxConnections: 8, minConnections: 0 },
            ),
          ),
      },
      {
        name: '@privatelink/pg createPool',
        ours: true,
        versus: 'pg.Pool + rds-signer',
        create: async () =>
          pooled(
            createPool({
              endpoint: lab.endpoint,
              proxyHost: front.proxyHost,
              user,
              database,
              ssl: { ca },
              max: 8,
            }),
          ),
      },
    ],
    close: async () => {
      restoreLookup()
      await lab.close()
    },
  }
}

// The ioredis copy @privatelink/redis itself loads, so both sides run the same driver.
const fromRedisPackage = createRequire(new URL('../packages/redis/package.json', import.meta.url))
interface RedisClient {
  set(key: string, value: string): Promise<unknown>
  get(key: string): Promise<unknown>
  quit(): Promise<unknown>
  disconnect(): void
}
const { Redis } = (await import(pathToFileURL(fromRedisPackage.resolve('ioredis')).href)) as {
  Redis: new (options: { host: string; port: number }) => RedisClient
}

/** Six application instances, one client each, GET/SET spread over them. */
const FLEET = 6

function fleet(clients: RedisClient[]): Client {
  return {
    op: (index) => {
      const client = clients[index % clients.length]!
      const key = `privatelink:topology:${index % 100}`
      return index % 2 === 0 ? client.set(key, 'v') : client.get(key)
    },
    close: async () => {
      for (const client of clients) client.disconnect()
    },
  }
}

/**
 * Redis (127.0.0.1:6379 or REDIS_URL) behind the endpoint, plain TCP. Each side is a fleet of six
 * application instances with one client each, as a service runs: one ioredis connection lands in
 * one zone, so a single client would be all or nothing.
 */
export async function redisPlan(quick: boolean): Promise<PackagePlan> {
  const url = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379')
  const lab = await startLab({
    topology: {},
    services: [
      {
        name: 'redis',
        port: 6379,
        target: { host: url.hostname, port: Number(url.port || 6379) },
      },
    ],
  })
  environment(lab)
  const restoreLookup = useLabResolver(lab)
  const port = portOf(lab, 6379)
  return {
    name: 'redis',
    service: 'redis',
    lab,
    concurrency: 16,
    operations: quick ? 1_000 : 4_000,
    variants: [
      {
        name: 'ioredis (regional DNS name)',
        ours: false,
        create: async () =>
          fleet(
            Array.from({ length: FLEET }, () => new Redis({ host: lab.endpoint.dnsName, port })),
          ),
      },
      {
        name: '@privatelink/redis createRedis',
        ours: true,
        versus: 'ioredis (regional DNS name)',
        create: async () =>
          fleet(
            Array.from({ length: FLEET }, () =>
              createRedis({ endpoint: lab.endpoint, port: 6379, tls: false }),
            ) as unknown as RedisClient[],
          ),
      },
    ],
    close: async () => {
      restoreLookup()
      await lab.close()
    },
  }
}

/** An HTTPS service (its own process) behind the endpoint, reached by its private DNS name. */
export async function httpPlan(quick: boolean): Promise<PackagePlan> {
  const server: { child: ChildProcess; port: number; ca: string } = await startServer()
  const lab = await startLab({
    topology: {},
    privateDnsName: HOST,
    services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: server.port } }],
  })
  environment(lab)
  const restoreLookup = useLabResolver(lab)
  const origin = `https://${HOST}:${portOf(lab, 443)}`
  const requests = (dispatcher: Agent | ReturnType<typeof createEndpointDispatcher>) => ({
    op: async () => {
      const response = await request(`${origin}/`, { dispatcher })
      await response.body.dump()
    },
    close: () => dispatcher.close(),
  })
  const fetches = (dispatcher: Agent | ReturnType<typeof createEndpointDispatcher>) => ({
    op: async () => {
      const response = await fetch(`${origin}/`, { dispatcher })
      await response.arrayBuffer()
    },
    close: () => dispatcher.close(),
  })
  const agent = () => new Agent({ connect: { ca: server.ca } })
  const ours = () => createEndpointDispatcher({ endpoint: lab.endpoint, ca: server.ca })
  return {
    name: 'http',
    service: 'api',
    lab,
    // Four in flight: at 16 the client's TLS work, not the network, sets the latency on 2 cores.
    concurrency: 4,
    operations: quick ? 300 : 1_000,
    variants: [
      { name: 'undici Agent request()', ours: false, create: async () => requests(agent()) },
      { name: 'undici fetch(), Agent', ours: false, create: async () => fetches(agent()) },
      {
        name: '@privatelink/http dispatcher request()',
        ours: true,
        versus: 'undici Agent request()',
        create: async () => requests(ours()),
      },
      {
        name: '@privatelink/http dispatcher fetch()',
        ours: true,
        versus: 'undici fetch(), Agent',
        create: async () => fetches(ours()),
      },
    ],
    close: async () => {
      restoreLookup()
      await lab.close()
      server.child.kill()
    },
  }
}
