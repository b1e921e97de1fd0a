import { createConnector, PrivateLinkError } from '@privatelink/core'
import { createEndpointAgent, createEndpointDispatcher } from '@privatelink/http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type HttpLab, startHttpLab } from './http-lab.js'

let env: HttpLab
beforeAll(async () => {
  env = await startHttpLab()
})
afterAll(() => env.close())

const own = { source: 'options', azId: 'usw2-az2' } as const

describe('one vocabulary: endpoint, connector, connectorOptions', () => {
  it('connectorOptions configure the connector made from endpoint (they win over the older top-level spelling)', async () => {
    const dispatcher = createEndpointDispatcher({
      endpoint: env.lab.endpoint,
      locality: { source: 'options', azId: 'usw2-az3' },
      connectorOptions: { locality: own, healthCheck: { intervalMs: 0 } },
    })
    const agent = createEndpointAgent({
      endpoint: env.lab.endpoint,
      connectorOptions: { locality: own },
    })
    try {
      expect(dispatcher.connector.ownZone()?.azId).toBe('usw2-az2')
      expect(agent.connector.ownZone()?.azId).toBe('usw2-az2')
    } finally {
      await dispatcher.close()
      agent.destroy()
    }
  })

  it('connector is shared as is and never closed by its users; with endpoint or connectorOptions too it is refused', async () => {
    const connector = createConnector({ endpoint: env.lab.endpoint, port: 443, locality: own })
    const close = vi.spyOn(connector, 'close')
    try {
      const dispatcher = createEndpointDispatcher({ connector })
      const agent = createEndpointAgent({ connector })
      expect(dispatcher.connector).toBe(connector)
      expect(agent.connector).toBe(connector)
      await dispatcher.close()
      agent.destroy()
      expect(close).not.toHaveBeenCalled()
      for (const bad of [
        { connector, endpoint: env.lab.endpoint },
        { connector, connectorOptions: {} },
        { connector: { connect: 1 } },
        {},
      ]) {
        const refusal = (() => {
          try {
            createEndpointDispatcher(bad as never)
          } catch (error) {
            return error
          }
        })()
        expect(PrivateLinkError.isInstance(refusal)).toBe(true)
        expect(refusal).toMatchObject({ code: 'ERR_INVALID_OPTION' })
      }
    } finally {
      close.mockRestore()
      connector.close()
    }
  })

  it('a Connector passed as endpoint (the older spelling) still works, with one deprecation warning per process', async () => {
    const connector = createConnector({ endpoint: env.lab.endpoint, port: 443, locality: own })
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      const first = createEndpointDispatcher({ endpoint: connector })
      const second = createEndpointDispatcher({ endpoint: connector })
      expect(first.connector).toBe(connector)
      expect(second.connector).toBe(connector)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn.mock.calls[0]?.[1]).toMatchObject({
        type: 'DeprecationWarning',
        code: 'PRIVATELINK_DEP_HTTP_CONNECTOR_AS_ENDPOINT',
      })
      await first.close()
      await second.close()
    } finally {
      warn.mockRestore()
      connector.close()
    }
  })
})
