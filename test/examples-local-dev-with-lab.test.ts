import { readFile } from 'node:fs/promises'
import { main } from 'privatelink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp } from '../examples/local-dev-with-lab/app.js'
import { startDevLab } from '../examples/local-dev-with-lab/dev-lab.js'
import {
  type ProviderStub,
  startProviderStub,
} from '../examples/local-dev-with-lab/provider-stub.js'

let stub: ProviderStub

beforeAll(async () => {
  stub = await startProviderStub()
})
afterAll(() => stub?.close())

async function getOrder(url: string, id: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/orders/${id}`)
  return { status: response.status, body: await response.json() }
}

describe('examples/local-dev-with-lab', () => {
  it('a test suite: startDevLab, the app configured from its env, the own zone from IMDS', async () => {
    const dev = await startDevLab({ apiPort: stub.port, zone: 'us-west-2c' })
    const app = await startApp({ env: dev.env, ca: stub.caPem })
    try {
      expect(app.zone).toBe('us-west-2c')
      expect(await getOrder(app.url, '42')).toEqual({
        status: 200,
        body: { id: '42', status: 'shipped' },
      })
      expect(dev.lab.zone('us-west-2c').stats()['api']!.accepted).toBe(1)
      // A test can break a zone and check the app's behaviour: still answered, from another zone.
      await dev.lab.zone('us-west-2c').fail('reset')
      expect((await getOrder(app.url, '43')).status).toBe(200)
    } finally {
      await app.close()
      await dev.close()
    }
  })

  it('the CLI: `privatelink lab --service ... --json` prints the environment the app runs with', async () => {
    let output = ''
    let stop!: (signal: string) => void
    const stopped = new Promise<string>((resolve) => (stop = resolve))
    let running: Promise<number> = Promise.resolve(-1)
    const printed = new Promise<void>((resolve) => {
      const sink = (text: string) => {
        output += text
        if (output.trimEnd().endsWith('}')) resolve()
        return true
      }
      running = main(
        [
          'lab',
          '--service',
          `api:443=127.0.0.1:${stub.port}`,
          '--private-dns-name',
          'api.saas.example.com',
          '--json',
        ],
        {
          stdout: { write: sink },
          stderr: { write: () => true },
          env: {},
          stopSignal: () => stopped,
        },
      )
    })
    await printed
    const report = JSON.parse(output) as { env: Record<string, string> }
    expect(Object.keys(report.env)).toEqual(
      expect.arrayContaining([
        'PRIVATELINK_ENDPOINTS',
        'AWS_EC2_METADATA_SERVICE_ENDPOINT',
        'NODE_EXTRA_CA_CERTS',
      ]),
    )
    // NODE_EXTRA_CA_CERTS names the lab's CA file; the stub has its own CA, which the app is given.
    expect(await readFile(report.env['NODE_EXTRA_CA_CERTS']!, 'utf8')).toContain(
      'BEGIN CERTIFICATE',
    )
    const app = await startApp({ env: report.env, ca: stub.caPem })
    try {
      expect(await getOrder(app.url, '7')).toEqual({
        status: 200,
        body: { id: '7', status: 'shipped' },
      })
    } finally {
      await app.close()
      stop('SIGINT')
    }
    expect(await running).toBe(0)
  })
})
