import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { createServer, type TLSSocket } from 'node:tls'
import { type AwsRequestHandlerOptions, createAwsRequestHandler } from '@privatelink/aws-sdk'
import { createResolver } from '@privatelink/dns'
import { type Lab, type LabFront, startLab } from '@privatelink/lab'
import { freePort } from '../../../test/support/free-port.js'

export const REGION = 'us-west-2'
export const STS_HOST = 'sts.us-west-2.amazonaws.com'
export const EC2_HOST = 'ec2.us-west-2.amazonaws.com'
export const OWN_ZONE = { source: 'options', azId: 'usw2-az1' } as const

export interface AwsLab {
  lab: Lab
  /** A second listener port on every zone ENI, bound as is (no port map): for `'private-dns'` routes. */
  altPort: number
  /** TLS connections the front accepted, by SNI name. */
  handshakes: Map<string, number>
  /** Default options: the lab's endpoint for STS and EC2, the lab CA, own zone usw2-az1. */
  handlerFor(
    options?: Partial<AwsRequestHandlerOptions>,
  ): ReturnType<typeof createAwsRequestHandler>
  /** A resolver that asks the lab's DNS server and accepts the lab's addresses as private. */
  resolver(): ReturnType<typeof createResolver>
  /** Connections a zone's ENI accepted for the AWS service. */
  accepted(azName: string): number
  restoreAll(): Promise<void>
  close(): Promise<void>
}

/**
 * A front that terminates TLS for AWS API names with a lab-CA certificate, counts handshakes by
 * SNI name and relays plain HTTP to the lab's AWS server (whose port is known once the lab runs).
 */
export function awsTlsFront(
  names: string[],
  handshakes: Map<string, number>,
  awsPort: () => number,
  name = 'aws-tls',
): LabFront {
  return {
    name,
    async start({ ca }) {
      const issued = await ca.issue(names)
      const server = createServer(
        { cert: issued.certificatePem, key: issued.privateKeyPem },
        (socket: TLSSocket) => {
          const sni = socket.servername || ''
          handshakes.set(sni, (handshakes.get(sni) ?? 0) + 1)
          const upstream = connect(awsPort(), '127.0.0.1')
          socket.pipe(upstream).pipe(socket)
          socket.on('error', () => upstream.destroy())
          upstream.on('error', () => socket.destroy())
          socket.on('close', () => upstream.destroy())
          upstream.on('close', () => socket.destroy())
        },
      )
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      return {
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        close: async () => {
          server.close()
        },
      }
    },
  }
}

/**
 * The lab's EC2 and STS APIs behind a lab endpoint, over TLS as AWS serves them: the zones relay
 * TCP to a front that terminates TLS with a lab-CA certificate for the services' real names, then
 * relays plain HTTP to the lab's AWS server. So the SDK calls its usual https:// names, SNI and
 * the certificate check use them while we dial ENIs, and the lab's verifier checks SigV4 as signed
 * for those names. (The AWS server's port is known only once the lab runs; the front looks it up
 * per connection.)
 */
export async function startAwsLab(): Promise<AwsLab> {
  let awsPort: number | undefined
  const handshakes = new Map<string, number>()
  const front = awsTlsFront([STS_HOST, EC2_HOST], handshakes, () => awsPort!)
  const altPort = await freePort()
  const lab = await startLab({
    region: REGION,
    fronts: [front],
    services: [
      { name: 'aws', port: 443, target: { front: 'aws-tls' } },
      { name: 'aws-alt', port: altPort, target: { front: 'aws-tls' } },
    ],
  })
  awsPort = Number(new URL(lab.aws.endpoint).port)
  return {
    lab,
    altPort,
    handshakes,
    handlerFor: (options = {}) =>
      createAwsRequestHandler({
        endpoints: { sts: lab.endpoint, ec2: lab.endpoint },
        ca: lab.ca.certificatePem,
        locality: OWN_ZONE,
        ...options,
      }),
    resolver: () =>
      createResolver({ servers: [lab.dns.address], allowedRanges: lab.allowedRanges }),
    accepted: (azName) => lab.zone(azName).stats()['aws']!.accepted,
    restoreAll: async () => {
      for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
      lab.dns.restore()
    },
    close: () => lab.close(),
  }
}
