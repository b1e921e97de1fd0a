import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { ZoneChangeEvent } from '@privatelink/core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(() => env.restoreAll())

interface Answer {
  status: number
  body: string
}

/** One request through `agent` with Node's https.request; the lab's endpoint answers for API. */
function send(
  agent: HttpsAgent,
  path: string,
  options: { method?: string; body?: string; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: options.host ?? API,
        path,
        method: options.method ?? 'GET',
        agent,
        // The naive agent below dials the lab's own-zone address; TLS still checks API.
        ...(agent instanceof HttpsAgent && !('connector' in agent)
          ? { servername: API, ca: env.caPem, lookup: naiveLookup, port: naivePort() }
          : {}),
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

// What a hand-written agent does: the own zone's address, nothing else.
const naiveLookup = ((_host: string, _options: unknown, callback: (...args: unknown[]) => void) => {
  const zone = env.lab.endpoint.zones[0]!
  const address = zone.addresses[0]!
  callback(null, [{ address, family: 4 }])
}) as never

// The service's port on that address: 443, or the lab's mapped port where 443 cannot be bound
// (a non-root user).
const naivePort = () => env.lab.endpoint.zones[0]!.portMap?.['443'] ?? 443

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code?: string; cause?: { code?: string } }) => error.code,
  )

describe('createEndpointAgent (https.Agent on the connector)', () => {
  it('sends https.request through the own zone, TLS checked against the service name, keep-alive reused', async () => {
    const agent = env.agentFor()
    try {
      const before = env.accepted('us-west-2a')
      const first = await send(agent, '/one')
      const second = await send(agent, '/two')
      expect([first.status, second.status]).toEqual([200, 200])
      expect(JSON.parse(first.body)).toMatchObject({ host: API, path: '/one' })
      expect(env.accepted('us-west-2a') - before).toBe(1)
      expect(agent.connectionsPerZone()).toEqual({ 'usw2-az1': 1 })
    } finally {
      agent.destroy()
    }
  })

  it('refuses a host that is not pinned, and a certificate for another name', async () => {
    const agent = env.agentFor()
    const wrongName = env.agentFor({ servername: 'other.example.com' })
    try {
      expect(await errorCode(send(agent, '/', { host: 'example.com' }))).toBe(
        'ERR_ORIGIN_NOT_PINNED',
      )
      expect(await errorCode(send(wrongName, '/'))).toBe('ERR_TLS_NAME_MISMATCH')
    } finally {
      agent.destroy()
      wrongName.destroy()
    }
  })

  it('a GET whose connection the peer resets before any answer is sent again (a plain Agent fails it); a POST is not', async () => {
    const plain = new HttpsAgent({ keepAlive: true })
    const agent = env.agentFor()
    try {
      env.target.dropNext = 1
      expect(await errorCode(send(plain, '/plain'))).toBe('ECONNRESET')

      const before = env.target.counts.get('GET /reset') ?? 0
      env.target.dropNext = 1
      const answer = await send(agent, '/reset')
      expect(answer.status).toBe(200)
      expect((env.target.counts.get('GET /reset') ?? 0) - before).toBe(2)

      env.target.dropNext = 1
      expect(await errorCode(send(agent, '/post', { method: 'POST', body: 'x' }))).toBe(
        'ERR_CONNECTION_LOST',
      )
      // Three tries at most (maxRetries 2), then the loss is the caller's.
      env.target.dropNext = 3
      expect(await errorCode(send(agent, '/always'))).toBe('ERR_CONNECTION_LOST')
    } finally {
      plain.destroy()
      agent.destroy()
    }
  })

  it('ejecting the zone of a GET in flight moves it to another zone; a POST in flight fails ERR_CONNECTION_LOST (ERR_ZONE_EJECTED)', async () => {
    const agent = env.agentFor({
      connectorOptions: { ejection: { consecutiveFailures: 1 }, healthCheck: { intervalMs: 0 } },
      stallCheckMs: 0,
    })
    const events: ZoneChangeEvent[] = []
    agent.connector.onZoneChange((event) => events.push(event))
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let arrived = () => {}
    let arrivals = new Promise<void>((resolve) => {
      arrived = resolve
    })
    try {
      await send(agent, '/warm')
      let holds = 0
      env.target.onBody = async (_method, path) => {
        if (path !== '/held' || holds++ > 1) return
        arrived()
        await held
      }
      const get = send(agent, '/held')
      await arrivals
      arrivals = new Promise<void>((resolve) => {
        arrived = resolve
      })
      const post = send(agent, '/held', { method: 'POST', body: 'x' }).then(
        () => undefined,
        (error: { code?: string; cause?: { code?: string } }) => error,
      )
      await arrivals
      expect(agent.connectionsPerZone()).toEqual({ 'usw2-az1': 2 })
      agent.connector.report('usw2-az1', 'lost-in-flight', 'test')
      expect(events).toMatchObject([{ type: 'eject', zone: 'usw2-az1' }])
      const answer = await get
      expect(answer.status).toBe(200)
      expect(await post).toMatchObject({
        code: 'ERR_CONNECTION_LOST',
        cause: { code: 'ERR_ZONE_EJECTED' },
      })
      expect(agent.connectionsPerZone()['usw2-az1']).toBeUndefined()
    } finally {
      release()
      agent.destroy()
    }
  })

  it('an idle socket of an ejected zone is never handed out again', async () => {
    const agent = env.agentFor({
      connectorOptions: { ejection: { consecutiveFailures: 1 }, healthCheck: { intervalMs: 0 } },
    })
    try {
      await send(agent, '/idle')
      expect(agent.connectionsPerZone()).toEqual({ 'usw2-az1': 1 })
      agent.connector.report('usw2-az1', 'lost-in-flight', 'test')
      expect(agent.connectionsPerZone()).toEqual({})
      expect((await send(agent, '/next')).status).toBe(200)
      expect(agent.connectionsPerZone()['usw2-az1']).toBeUndefined()
    } finally {
      agent.destroy()
    }
  })
})

describe('createEndpointAgent and core lifecycle', () => {
  it('on readmission of the own zone, sockets in other zones leave once idle and traffic returns', async () => {
    const agent = env.agentFor({
      connectorOptions: {
        ejection: { consecutiveFailures: 1, baseMs: 10_000, maxMs: 10_000 },
        healthCheck: { intervalMs: 0 },
      },
      keepAliveTimeoutMs: 60_000,
    })
    const events: ZoneChangeEvent[] = []
    agent.connector.onZoneChange((event) => events.push(event))
    try {
      await send(agent, '/warm')
      agent.connector.report('usw2-az1', 'lost-in-flight', 'test')
      await Promise.all([send(agent, '/away'), send(agent, '/away')])
      const away = agent.connectionsPerZone()
      expect(away['usw2-az1']).toBeUndefined()
      expect(Object.values(away).reduce((a, b) => a + b, 0)).toBe(2)

      env.clock.now += 10_000
      expect((await send(agent, '/back')).status).toBe(200)
      expect(events.map((event) => `${event.type} ${event.zone}`)).toEqual([
        'eject usw2-az1',
        'readmit usw2-az1',
      ])
      // The socket that carried /back closes after it, the idle one at once: the next goes home.
      const before = env.accepted('us-west-2a')
      expect((await send(agent, '/home')).status).toBe(200)
      expect(env.accepted('us-west-2a') - before).toBe(1)
      await vi.waitFor(() => expect(agent.connectionsPerZone()).toEqual({ 'usw2-az1': 1 }), {
        timeout: 2_000,
        interval: 10,
      })
    } finally {
      agent.destroy()
    }
  })
})

describe('createEndpointAgent options', () => {
  it.each([
    ['keepAliveTimeoutMs', { keepAliveTimeoutMs: -1 }],
    ['maxSockets', { maxSockets: 0 }],
    ['retry.maxRetries', { retry: { maxRetries: 1.5 } }],
    ['retry.methods', { retry: { methods: 'GET' } }],
    ['retry.maxBufferedBytes', { retry: { maxBufferedBytes: -1 } }],
    ['stallCheckMs', { stallCheckMs: 'soon' }],
    ['origins', { origins: [] }],
    ['ca', { ca: 42 }],
  ])('refuses a bad %s with ERR_INVALID_OPTION naming it', (name, bad) => {
    let refusal: unknown
    try {
      env.agentFor(bad as never).destroy()
    } catch (error) {
      refusal = error
    }
    expect(refusal).toMatchObject({ code: 'ERR_INVALID_OPTION' })
    expect(String((refusal as Error).message)).toContain(name)
  })
})
