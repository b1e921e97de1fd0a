// The lab and the HTTPS service for bench/idle-cost.ts, in their own process: the client's CPU
// figures are then the client's alone. Asks: { endpoints: n } -> { endpoints, ca, port };
// { stats: true } -> { accepted } (connections the labs' relays accepted, all zones).
import { createServer } from 'node:https'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'

const HOST = process.env.BENCH_HOST ?? 'api.bench.example.com'
const ca = await createTestCa()
const issued = await ca.issue([HOST])
const server = createServer(
  { cert: issued.certificatePem, key: issued.privateKeyPem, keepAliveTimeout: 600_000 },
  (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
      res.end('ok')
    })
  },
)
server.keepAliveTimeout = 600_000
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as { port: number }).port
const labs: Lab[] = []

process.on('message', async (message: { endpoints?: number; stats?: boolean }) => {
  if (message.endpoints !== undefined) {
    while (labs.length < message.endpoints)
      labs.push(
        await startLab({
          privateDnsName: HOST,
          idleTimeoutMs: 3_600_000,
          services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port } }],
        }),
      )
    process.send?.({
      endpoints: labs.slice(0, message.endpoints).map((lab) => lab.endpoint),
      ca: ca.certificatePem,
    })
  } else if (message.stats) {
    let accepted = 0
    for (const lab of labs)
      for (const zone of lab.endpoint.zones)
        for (const stats of Object.values(lab.zone(zone.azName).stats()))
          accepted += stats.accepted ?? 0
    process.send?.({ accepted })
  }
})
process.on('disconnect', async () => {
  await Promise.all(labs.map((lab) => lab.close()))
  server.close()
  process.exit(0)
})
process.send?.({ ready: true })
