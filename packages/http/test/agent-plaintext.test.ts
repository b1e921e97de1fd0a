import { once } from 'node:events'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEndpointHttpAgent } from '@privatelink/http'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const NAME = 'plain.saas.example.com'
let lab: Lab
let server: Server

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume()
    res.end(JSON.stringify({ host: req.headers.host, path: req.url }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  lab = await startLab({
    privateDnsName: NAME,
    services: [
      {
        name: 'web',
        port: 80,
        target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
      },
    ],
  })
})
afterAll(async () => {
  await lab.close()
  server.closeAllConnections()
  server.close()
})

describe('createEndpointHttpAgent (plaintext http.Agent)', () => {
  it('sends http.request through the own zone of the endpoint, and refuses a host not pinned', async () => {
    const agent = createEndpointHttpAgent({
      endpoint: lab.endpoint,
      connectorOptions: { locality: { source: 'options', azId: 'usw2-az2' } },
    })
    const get = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host, path: '/plain', agent }, (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString()
          })
          res.on('end', () => resolve(body))
        })
        req.on('error', reject)
        req.end()
      })
    try {
      const accepted = () => lab.zone('us-west-2b').stats()['web']!.accepted
      const before = accepted()
      expect(JSON.parse(await get(NAME))).toEqual({ host: NAME, path: '/plain' })
      expect(accepted() - before).toBe(1)
      expect(agent.connectionsPerZone()).toEqual({ 'usw2-az2': 1 })
      await expect(get('example.com')).rejects.toMatchObject({ code: 'ERR_ORIGIN_NOT_PINNED' })
    } finally {
      agent.destroy()
    }
  })
})
