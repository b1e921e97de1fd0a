import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import {
  type ElastiCacheFront,
  elastiCacheFront,
  type Lab,
  type LabFront,
  type LabOptions,
  type LabServiceOptions,
  type RdsProxyFront,
  rdsProxyFront,
  startLab,
} from '@privatelink/lab'
import { inject } from 'vitest'

/** The private API's name: the endpoint's private DNS name. */
export const API_HOST = 'api.saas.example.com'

/** The own zone every client here runs in. */
export const OWN = { azName: 'us-west-2a', azId: 'usw2-az1' } as const

/** A lab endpoint with the three services the adapters reach: HTTPS API, RDS Proxy, ElastiCache. */
export interface Stack {
  lab: Lab
  proxy: RdsProxyFront
  /** Absent when no Redis could be had (`redisUnavailable` says why; CI=true requires it). */
  cache?: ElastiCacheFront
  redisUnavailable: string
  database: string
  api: Api
  close(): Promise<void>
}

export interface Api {
  port: number
  /** Requests answered, by path prefix (the first segment). */
  served: Map<string, number>
  close(): Promise<void>
}

export function postgresUpstream() {
  const url = new URL(inject('pgUrl'))
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    database: url.pathname.slice(1) || 'postgres',
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  }
}

export async function startStack(options: Pick<LabOptions, 'clock'> = {}): Promise<Stack> {
  const upstream = postgresUpstream()
  const proxy = rdsProxyFront({ upstream })
  const fronts: LabFront[] = [proxy]
  const services: LabServiceOptions[] = [
    { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
  ]
  const redisUrl = inject('redisUrl')
  let cache: ElastiCacheFront | undefined
  if (redisUrl !== '') {
    const url = new URL(redisUrl)
    cache = elastiCacheFront({
      cacheName: 'lab-cache',
      upstream: { host: url.hostname, port: Number(url.port || 6379) },
    })
    fronts.push(cache)
    services.push({ name: 'redis', port: 6379, target: { front: 'elasticache' } })
  }
  const api = await startApi()
  services.push({ name: 'api', port: 443, target: { host: '127.0.0.1', port: api.port } })
  let lab: Lab
  try {
    lab = await startLab({ ...options, privateDnsName: API_HOST, fronts, services })
  } catch (error) {
    await api.close()
    throw error
  }
  const issued = await lab.ca.issue([API_HOST])
  api.setCertificate(issued.certificatePem, issued.privateKeyPem)
  return {
    lab,
    proxy,
    ...(cache === undefined ? {} : { cache }),
    redisUnavailable: inject('redisUnavailable'),
    database: upstream.database,
    api,
    close: async () => {
      await lab.close()
      await api.close()
    },
  }
}

/** The provider's private API: JSON answers, a lab-CA certificate set once the lab exists. */
async function startApi(): Promise<Api & { setCertificate(cert: string, key: string): void }> {
  const sockets = new Set<Socket>()
  const served = new Map<string, number>()
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, (request, response) => {
    request.resume()
    request.on('end', () => {
      const first = (request.url ?? '/').split('/')[1] ?? ''
      served.set(first, (served.get(first) ?? 0) + 1)
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ ok: true, path: request.url }))
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    served,
    setCertificate: (cert, key) => server.setSecureContext({ cert, key }),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
