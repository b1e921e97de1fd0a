// The @privatelink/lab README's first example, runnable: `pnpm tsx examples/lab-quickstart.ts`.
// test/lab-quickstart.test.ts runs it and checks that the README shows the lines between the
// `readme:` markers as they are.
import { once } from 'node:events'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createEndpointDispatcher } from '@privatelink/http'
import { createTestCa, startLab } from '@privatelink/lab'
import { request } from 'undici'

export async function labQuickstart(): Promise<string[]> {
  // readme:start
  // Your service: any HTTPS server, here with a certificate from a lab CA.
  const ca = await createTestCa()
  const { certificatePem, privateKeyPem } = await ca.issue(['api.saas.example.com'])
  const server = createServer({ cert: certificatePem, key: privateKeyPem }, (_req, res) =>
    res.end('ok'),
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')

  // A PrivateLink endpoint in front of it: three zones on 127.X.1.1, 127.X.2.1, 127.X.3.1, in a
  // 127.X.0.0/16 block no other lab uses. Without root (or with 443 taken) the zones serve on
  // another port, and lab.endpoint says which (each zone's portMap): no root needed.
  const lab = await startLab({
    privateDnsName: 'api.saas.example.com',
    services: [
      {
        name: 'api',
        port: 443,
        target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
      },
    ],
  })
  const dispatcher = createEndpointDispatcher({
    endpoint: lab.endpoint,
    locality: { source: 'options', azId: 'usw2-az1' }, // "we run in us-west-2a"
    ca: ca.certificatePem,
  })
  const served = (zone: string) => lab.zone(zone).stats()['api']!.accepted
  const seen: string[] = []
  try {
    await (await request('https://api.saas.example.com/health', { dispatcher })).body.text()
    seen.push(`healthy: us-west-2a served ${served('us-west-2a')}`)

    await lab.zone('us-west-2a').fail('blackhole') // connects to zone a never complete now
    await dispatcher.close() // start over with no open connections, to meet the fault
    const fresh = createEndpointDispatcher({
      endpoint: lab.endpoint,
      locality: { source: 'options', azId: 'usw2-az1' },
      ca: ca.certificatePem,
    })
    await (await request('https://api.saas.example.com/health', { dispatcher: fresh })).body.text()
    seen.push(`blackholed: us-west-2b served ${served('us-west-2b')}`)
    await fresh.close()
  } finally {
    await lab.close() // no listener, socket, worker or timer left behind
    server.close()
  }
  // readme:end
  return seen
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await labQuickstart()).join('\n'))
