import { getDefaultRoleAssumer } from '@aws-sdk/client-sts'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { type AwsRequestHandlerOptions, createAwsRequestHandler } from '@privatelink/aws-sdk'
import type { Endpoint } from '@privatelink/core'
import { type Lab, type LabFront, startLab } from '@privatelink/lab'
import { freePort } from '../../../test/support/free-port.js'
import { awsTlsFront, OWN_ZONE, REGION, STS_HOST } from './aws-lab.js'

/** A lab whose endpoint is an AWS service's interface endpoint, with STS beside it. */
export interface ServiceLab {
  lab: Lab
  /** The service's endpoint (the lab's), as discovery would return it. */
  endpoint: Endpoint
  /** STS's own endpoint: the lab's zones on another port, a separate route (and TLS name). */
  stsEndpoint: Endpoint
  /** `https://sts.<region>.amazonaws.com:<port>`: the STS client's endpoint for that port. */
  stsUrl: string
  /** A handler serving the service and STS through the lab, own zone first, the lab CA. */
  handler(options?: Partial<AwsRequestHandlerOptions>): ReturnType<typeof createAwsRequestHandler>
  /**
   * Cross-account credentials: fromTemporaryCredentials, AssumeRole (through the STS endpoint)
   * into the lab's role. In @aws-sdk/credential-providers 3.1175 they carry no account ID.
   */
  crossAccount(
    handler: ReturnType<typeof createAwsRequestHandler>,
  ): ReturnType<typeof fromTemporaryCredentials>
  /**
   * Cross-account credentials from STS's default role assumer (what a profile with `role_arn`
   * and the default chain use): AssumeRole through the STS endpoint, with the role's account ID.
   */
  assumedRole(handler: ReturnType<typeof createAwsRequestHandler>): () => Promise<{
    accessKeyId: string
    secretAccessKey: string
    sessionToken?: string
    accountId?: string
  }>
  close(): Promise<void>
}

/**
 * STS's interface endpoint on the same zones as `endpoint` (as a second interface endpoint would
 * be), without `endpoint`'s DNS names: its own route, so STS's connections present STS's name.
 */
export function stsEndpointBeside(endpoint: Endpoint, awsService: string): Endpoint {
  const { privateDnsName: _service, ...serviceEndpoint } = endpoint
  return {
    ...serviceEndpoint,
    id: `${endpoint.id}-sts`,
    serviceName: `com.amazonaws.${REGION}.sts`,
    dnsName: endpoint.dnsName.replace(`.${awsService}.`, '.sts.'),
    zones: endpoint.zones.map(({ dnsName: _name, ...zone }) => zone),
  }
}

/**
 * Starts a lab with `awsService`'s interface endpoint served by `front` on 443, and the lab's STS
 * on a second port of the same zones, TLS for STS's name (the lab's keys are per lab: the
 * service's front and STS must share one).
 */
export async function startServiceLab(
  awsService: string,
  front: LabFront,
  extra: { privateDnsName?: string } = {},
): Promise<ServiceLab> {
  let awsPort = 0
  const stsPort = await freePort()
  const lab = await startLab({
    region: REGION,
    awsService,
    ...extra,
    fronts: [front, awsTlsFront([STS_HOST], new Map(), () => awsPort, 'sts-tls')],
    services: [
      { name: awsService, port: 443, target: { front: front.name } },
      { name: 'sts', port: stsPort, target: { front: 'sts-tls' } },
    ],
  })
  awsPort = Number(new URL(lab.aws.endpoint).port)
  const stsEndpoint = stsEndpointBeside(lab.endpoint, awsService)
  const stsUrl = `https://${STS_HOST}:${stsPort}`
  return {
    lab,
    endpoint: lab.endpoint,
    stsEndpoint,
    stsUrl,
    handler: (options = {}) =>
      createAwsRequestHandler({
        endpoints: { [awsService]: lab.endpoint, sts: stsEndpoint },
        ca: lab.ca.certificatePem,
        locality: OWN_ZONE,
        ...options,
      }),
    crossAccount: (handler) => {
      const role = lab.aws.roles[0]!
      return fromTemporaryCredentials({
        params: { RoleArn: role.arn, ExternalId: role.externalId!, RoleSessionName: 'lab' },
        masterCredentials: lab.aws.credentials,
        clientConfig: { region: REGION, endpoint: stsUrl, requestHandler: handler },
      })
    },
    assumedRole: (handler) => {
      const role = lab.aws.roles[0]!
      const assume = getDefaultRoleAssumer({
        region: REGION,
        endpoint: stsUrl,
        requestHandler: handler,
      } as never)
      let session: ReturnType<typeof assume> | undefined
      return () => {
        session ??= assume(lab.aws.credentials, {
          RoleArn: role.arn,
          ExternalId: role.externalId!,
          RoleSessionName: 'lab',
        })
        return session
      }
    },
    close: () => lab.close(),
  }
}
