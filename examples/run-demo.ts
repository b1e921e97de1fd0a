import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { once } from 'node:events'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { detectLocality, discoverEndpoint, PrivateLinkError } from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import { createEndpointDispatcher } from '@privatelink/http'
import { createTestCa, startLab } from '@privatelink/lab'
import { request } from 'undici'

export interface DemoSummary {
  ownZone: string
  healthy: Record<string, number>
  duringBlackhole: Record<string, number>
  afterRestore: Record<string, number>
  errors: number
  leakGuard: string
}

const API = 'api.saas.example.com'

/**
 * The whole path on one machine: a SaaS API behind a PrivateLink endpoint in three zones, found
 * through the EC2 API with cross-account credentials, called from "us-west-2b", then that zone
 * is blackholed and traffic moves without a failed request.
 */
export async function runDemo(log: (line: string) => void = console.log): Promise<DemoSummary> {
  let now = Date.now()
  const ca = await createTestCa()
  const certificate = await ca.issue([API])
  const api = createServer(
    { cert: certificate.certificatePem, key: certificate.privateKeyPem },
    (req, res) => {
      req.resume()
      res.end(JSON.stringify({ ok: true, path: req.url }))
    },
  )
  api.listen(0, '127.0.0.1')
  await once(api, 'listening')
  const lab = await startLab({
    clock: () => now,
    privateDnsName: API,
    services: [
      {
        name: 'api',
        port: 443,
        target: { host: '127.0.0.1', port: (api.address() as AddressInfo).port },
      },
    ],
  })
  const unsubscribers: (() => void)[] = []
  try {
    log(
      `1. Lab up: endpoint ${lab.endpoint.id} in ${lab.endpoint.zones.map((z) => `${z.azName} (${z.azId}) ${z.addresses[0]}`).join(', ')}`,
    )

    const sts = new STSClient({
      endpoint: lab.aws.endpoint,
      region: lab.region,
      credentials: lab.aws.credentials,
    })
    const role = lab.aws.roles[0]!
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: role.arn,
        RoleSessionName: 'demo',
        ExternalId: 'privatelink-lab',
      }),
    )
    const credentials = {
      accessKeyId: assumed.Credentials!.AccessKeyId!,
      secretAccessKey: assumed.Credentials!.SecretAccessKey!,
      sessionToken: assumed.Credentials!.SessionToken!,
    }
    log(
      `2. Assumed ${role.arn} (cross-account, ExternalId checked); session expires ${assumed.Credentials!.Expiration!.toISOString()}`,
    )

    const endpoint = await discoverEndpoint({
      serviceName: lab.endpoint.serviceName!,
      ec2ClientConfig: { endpoint: lab.aws.endpoint, region: lab.region, credentials },
    })
    log(
      `3. Discovered with the real EC2 client: ${endpoint.dnsName}, private DNS ${endpoint.privateDnsName}`,
    )

    lab.metadata.setZone('us-west-2b')
    const locality = await detectLocality({ env: lab.metadata.env('ec2') })
    log(`4. IMDSv2 says we run in ${locality.azName} (${locality.azId}); own zone first.`)

    const resolver = createResolver({
      servers: [lab.dns.address],
      allowedRanges: lab.allowedRanges,
    })
    const resolved = await resolver.resolve(API)
    log(`5. ${API} resolves privately to ${resolved.addresses.map((a) => a.address).join(', ')}`)
    lab.dns.override(API, { a: ['52.94.133.131'] })
    let leakGuard = 'not triggered'
    try {
      await createResolver({
        servers: [lab.dns.address],
        allowedRanges: lab.allowedRanges,
      }).resolve(API)
    } catch (error) {
      if (PrivateLinkError.isInstance(error)) leakGuard = error.code
      log(
        `   With private DNS "off" the name resolves publicly, and the guard refuses it: ${leakGuard}`,
      )
      log(`   hint: ${(error as PrivateLinkError).hint.slice(0, 120)}...`)
    }
    lab.dns.restore()

    const onFailover = (message: unknown) => {
      const m = message as { from: string; to: string; cause: string }
      log(`   failover ${m.from} -> ${m.to} (${m.cause})`)
    }
    const onEject = (message: unknown) => {
      const m = message as { azName: string; cause: string; untilMs: number }
      log(`   ejected ${m.azName} (${m.cause}) for ${m.untilMs - now} ms`)
    }
    subscribe('privatelink:connector:failover', onFailover)
    subscribe('privatelink:connector:eject', onEject)
    unsubscribers.push(
      () => unsubscribe('privatelink:connector:failover', onFailover),
      () => unsubscribe('privatelink:connector:eject', onEject),
    )

    const dispatcher = createEndpointDispatcher({
      endpoint,
      locality,
      ca: ca.certificatePem,
      clock: () => now,
      headersTimeoutMs: 1_000,
      ejection: { baseMs: 30_000, maxMs: 60_000 },
    })
    let errors = 0
    const traffic = async (count: number) => {
      const before = lab.stats()
      await Promise.all(
        Array.from({ length: 8 }, async (_, worker) => {
          for (let i = worker; i < count; i += 8) {
            try {
              await (await request(`https://${API}/v1/orders/${i}`, { dispatcher })).body.dump()
            } catch {
              errors++
            }
          }
        }),
      )
      const after = lab.stats()
      return Object.fromEntries(
        lab.endpoint.zones.map((z) => [
          z.azName,
          after[z.azName]!['api']!.bytesIn - before[z.azName]!['api']!.bytesIn,
        ]),
      )
    }
    const share = (bytes: Record<string, number>) => {
      const total = Object.values(bytes).reduce((a, b) => a + b, 0) || 1
      return Object.entries(bytes)
        .map(([zone, b]) => `${zone} ${Math.round((b / total) * 100)}%`)
        .join(', ')
    }

    const healthy = await traffic(200)
    log(`6. 200 requests: ${share(healthy)} of bytes`)

    log('7. Blackholing us-west-2b (connects to it now never complete)...')
    await lab.zone('us-west-2b').fail('blackhole')
    const duringBlackhole = await traffic(200)
    log(`   200 requests: ${share(duringBlackhole)}; failed requests: ${errors}`)

    await lab.zone('us-west-2b').restore()
    now += 60_000
    const afterRestore = await traffic(200)
    log(`8. Restored, ejection over: ${share(afterRestore)}`)
    await dispatcher.close()
    return {
      ownZone: locality.azName ?? '',
      healthy,
      duringBlackhole,
      afterRestore,
      errors,
      leakGuard,
    }
  } finally {
    for (const stop of unsubscribers) stop()
    await lab.close()
    api.close()
  }
}
