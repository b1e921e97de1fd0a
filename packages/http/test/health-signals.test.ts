import { once } from 'node:events'
import { type Connector, createConnector, type ZoneChangeEvent } from '@privatelink/core'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())
afterEach(() => env.restoreAll())

// Core watches each socket and reports how it ended; a single counted failure ejects the zone
// here, so the eject event's signal shows what the dispatcher's busy() and ownClose() made of it.
function sharedConnector(): { connector: Connector; ejections: ZoneChangeEvent[] } {
  const connector = createConnector({
    endpoint: env.lab.endpoint,
    port: 443,
    locality: { source: 'options', azId: 'usw2-az1' },
    clock: () => env.clock.now,
    healthCheck: { intervalMs: 0 },
    ejection: { consecutiveFailures: 1 },
  })
  const ejections: ZoneChangeEvent[] = []
  connector.onZoneChange((event) => {
    if (event.type === 'eject') ejections.push(event)
  })
  return { connector, ejections }
}

describe('health signals from open connections', () => {
  it("a keep-alive socket the service closed while idle is 'idle-close', which never counts", async () => {
    const { connector, ejections } = sharedConnector()
    const dispatcher = env.dispatcherFor({ endpoint: connector, keepAliveTimeoutMs: 60_000 })
    try {
      await (await request(`https://${API}/idle`, { dispatcher })).body.dump()
      const disconnected = once(dispatcher, 'disconnect')
      env.target.closeIdle()
      await disconnected
      expect(ejections).toEqual([])
      expect(connector.zones().find((z) => z.zone === 'usw2-az1')).toMatchObject({
        ejected: false,
      })
    } finally {
      await dispatcher.close()
      connector.close()
    }
  })

  it("a socket that dies under a request is 'lost-in-flight' for the zone it was really in", async () => {
    const { connector, ejections } = sharedConnector()
    const dispatcher = env.dispatcherFor({ endpoint: connector })
    try {
      const error = await request(`https://${API}/crash`, {
        dispatcher,
        method: 'POST',
        body: '{}',
        headers: { 'x-respond-destroy': '1' },
      }).catch((e: Error) => e)
      expect(error).toMatchObject({ code: 'ERR_CONNECTION_LOST' })
      expect(ejections).toMatchObject([{ zone: 'usw2-az1', signal: 'lost-in-flight' }])
    } finally {
      await dispatcher.close()
      connector.close()
    }
  })

  it('a request the caller aborted is never reported', async () => {
    const { connector, ejections } = sharedConnector()
    const dispatcher = env.dispatcherFor({ endpoint: connector })
    let release = () => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    let arrived = () => {}
    const seen = new Promise<void>((resolve) => (arrived = resolve))
    env.target.onBody = async () => {
      arrived()
      await released
    }
    try {
      const controller = new AbortController()
      const pending = request(`https://${API}/abandoned`, { dispatcher, signal: controller.signal })
      await seen
      const disconnected = once(dispatcher, 'disconnect')
      controller.abort(new Error('changed my mind'))
      await expect(pending).rejects.toThrow('changed my mind')
      await disconnected
      expect(ejections).toEqual([])
    } finally {
      release()
      await dispatcher.close()
      connector.close()
    }
  })
})
