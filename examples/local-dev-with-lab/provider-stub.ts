// A stand-in for the provider's API on your machine: HTTPS with a certificate for its real name
// from a throwaway CA. Run it alone (`pnpm tsx examples/local-dev-with-lab/provider-stub.ts`) to
// get its port and CA file for `privatelink lab --service`, or start it from a test.
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestCa } from '@privatelink/lab'

export interface ProviderStub {
  port: number
  /** The CA that issued the stub's certificate (PEM): what the app must trust. */
  caPem: string
  close(): Promise<void>
}

export async function startProviderStub(name = 'api.saas.example.com'): Promise<ProviderStub> {
  const ca = await createTestCa()
  const { certificatePem, privateKeyPem } = await ca.issue([name])
  const server = createServer({ cert: certificatePem, key: privateKeyPem }, (request, response) => {
    request.resume()
    const id = request.url?.split('/').pop() ?? ''
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ id, status: 'shipped' }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    caPem: ca.certificatePem,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stub = await startProviderStub()
  const folder = await mkdtemp(join(tmpdir(), 'provider-stub-'))
  const caFile = join(folder, 'ca.pem')
  await writeFile(caFile, stub.caPem)
  console.log(`provider stub on 127.0.0.1:${stub.port}; its CA: ${caFile}`)
  console.log(
    `next, in another terminal: ./dev privatelink lab --service api:443=127.0.0.1:${stub.port} --private-dns-name api.saas.example.com`,
  )
  // Ctrl-C or a SIGTERM (kill, a terminal closed by a script) stops it and removes the CA file.
  await new Promise((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await stub.close()
  await rm(folder, { recursive: true, force: true })
}
