import { request as httpsRequest } from 'node:https'
import type { ZoneChangeEvent } from '@privatelink/core'
import type { EndpointAgent } from '@privatelink/http'
import axios from 'axios'
import got from 'got'
import nodeFetch from 'node-fetch'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { API, type HttpLab, startHttpLab } from '../packages/http/test/http-lab.js'

// axios, got, node-fetch and Node's https.request, each through createEndpointAgent against the
// lab's HTTPS service behind the endpoint (own zone usw2-az1).

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(() => env.restoreAll())

type Client = (agent: EndpointAgent, path: string) => Promise<{ status: number; host: string }>

const clients: Record<string, Client> = {
  axios: async (agent, path) => {
    const response = await axios.get(`https://${API}${path}`, { httpsAgent: agent })
    return { status: response.status, host: response.data.host }
  },
  // got retries GETs itself: off, so a failure would show.
  got: async (agent, path) => {
    const response = await got(`https://${API}${path}`, {
      agent: { https: agent },
      retry: { limit: 0 },
    })
    return { status: response.statusCode, host: JSON.parse(response.body).host }
  },
  'node-fetch': async (agent, path) => {
    const response = await nodeFetch(`https://${API}${path}`, { agent })
    return { status: response.status, host: ((await response.json()) as { host: string }).host }
  },
  'https.request': (agent, path) =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: API, path, agent }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, host: JSON.parse(body).host }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    }),
}

describe('HTTP clients through createEndpointAgent', () => {
  it.each(Object.keys(clients))(
    '%s: a GET through the own zone, TLS against the service name',
    async (name) => {
      const agent = env.agentFor()
      try {
        const before = env.accepted('us-west-2a')
        const client = clients[name] as Client
        expect(await client(agent, `/${name}/1`)).toEqual({ status: 200, host: API })
        expect(await client(agent, `/${name}/2`)).toEqual({ status: 200, host: API })
        expect(env.accepted('us-west-2a') - before).toBe(1)
        expect(agent.connectionsPerZone()).toEqual({ 'usw2-az1': 1 })
      } finally {
        agent.destroy()
      }
    },
  )

  it('the own zone blackholed mid-run: 0 failed GETs from any of the four clients, traffic moved to the other zones', async () => {
    // With retry.maxRetries: 0 (no replay) this run fails 8 GETs, two per client.
    const agent = env.agentFor()
    const events: ZoneChangeEvent[] = []
    agent.connector.onZoneChange((event) => events.push(event))
    const names = Object.keys(clients)
    const failures: string[] = []
    let completed = 0
    let afterEject = 0
    let stop = false
    const loop = async (index: number) => {
      const name = names[index % names.length] as string
      const client = clients[name] as Client
      while (!stop) {
        try {
          const answer = await client(agent, `/loss/${name}`)
          if (answer.status !== 200) failures.push(`${name} ${answer.status}`)
        } catch (error) {
          failures.push(`${name} ${(error as { code?: string }).code ?? String(error)}`)
        }
        completed++
        if (events.some((event) => event.type === 'eject')) afterEject++
        if (afterEject >= 200) stop = true
      }
    }
    try {
      const loops = Array.from({ length: 8 }, (_, index) => loop(index))
      await vi.waitFor(() => expect(completed).toBeGreaterThan(100), {
        timeout: 15_000,
        interval: 5,
      })
      expect(agent.connectionsPerZone()['usw2-az1']).toBeGreaterThan(0)
      const othersBefore = env.accepted('us-west-2b') + env.accepted('us-west-2c')
      await env.lab.zone('us-west-2a').fail('blackhole')
      await Promise.all(loops)
      expect(failures).toEqual([])
      expect(events[0]).toMatchObject({ type: 'eject', zone: 'usw2-az1' })
      expect(env.accepted('us-west-2b') + env.accepted('us-west-2c')).toBeGreaterThan(othersBefore)
      expect(agent.connectionsPerZone()['usw2-az1']).toBeUndefined()
    } finally {
      stop = true
      agent.destroy()
    }
  }, 40_000)
})

describe("axios's fetch adapter with the endpoint dispatcher", () => {
  it("adapter: 'fetch' with fetchOptions: { dispatcher } sends through the endpoint's own zone", async () => {
    const dispatcher = env.dispatcherFor()
    try {
      const before = env.accepted('us-west-2a')
      const response = await axios.get(`https://${API}/axios-fetch`, {
        adapter: 'fetch',
        fetchOptions: { dispatcher },
      })
      expect(response.status).toBe(200)
      expect(response.data).toMatchObject({ host: API, path: '/axios-fetch' })
      expect(env.accepted('us-west-2a') - before).toBe(1)
      expect(dispatcher.connectionsPerZone()).toEqual({ 'usw2-az1': 1 })
    } finally {
      await dispatcher.close()
    }
  })
})
