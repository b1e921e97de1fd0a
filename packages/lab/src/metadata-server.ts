import { randomBytes } from 'node:crypto'
import type { CredentialsStore } from './credentials-store.js'
import { inventoryOf, labInstance } from './ec2-network.js'
import { type LabHttpServer, startHttpServer } from './http-server.js'

export interface MetadataState {
  region: string
  azName: string
  azId: string
  /** IMDS instance role: its credentials are issued by the lab's STS. */
  roleName: string
  roleArn: string
  lambdaToken: string
  /** When set, every request hangs (an IMDS hop limit of 1 from a container looks like this). */
  hang: boolean
  clock: () => number
}

/**
 * The instance's network as IMDS serves it (local-ipv4, mac, and per interface MAC its
 * security-group-ids, vpc-id, subnet-id, local-ipv4s: lists one a line): a string, null for an
 * unknown MAC, undefined for a path that is not one of these.
 */
function networkMetadata(
  store: CredentialsStore,
  azName: string,
  path: string,
): string | null | undefined {
  const prefix = '/latest/meta-data/'
  if (!path.startsWith(prefix)) return undefined
  const rest = path.slice(prefix.length)
  const isNetwork =
    rest === 'local-ipv4' ||
    rest === 'mac' ||
    rest === 'instance-id' ||
    rest.startsWith('network/interfaces/macs/')
  if (!isNetwork) return undefined
  const inventory = inventoryOf(store)
  const instance = inventory === undefined ? undefined : labInstance(inventory, azName)
  if (instance === undefined) return null
  if (rest === 'local-ipv4') return instance.privateIp
  if (rest === 'mac') return instance.mac
  if (rest === 'instance-id') return instance.instanceId
  const [mac, field] = rest.slice('network/interfaces/macs/'.length).split('/')
  if (mac === '' || mac === undefined) return `${instance.mac}/`
  if (mac !== instance.mac) return null
  const fields: Record<string, string> = {
    'security-group-ids': instance.groupIds.join('\n'),
    'vpc-id': instance.vpcId,
    'subnet-id': instance.subnetId,
    'local-ipv4s': instance.privateIp,
  }
  if (field === undefined || field === '') return Object.keys(fields).join('\n')
  return fields[field] ?? null
}

const LAMBDA_PATH = '/2026-01-15/metadata/execution-environment'
export const ECS_TASK_ID = 'privatelink-lab-task'

/**
 * IMDSv2, ECS task metadata v4 and the Lambda metadata endpoint on one loopback server.
 * A doubled leading slash is accepted, as some AWS SDK packages send one.
 */
export function startMetadataServer(
  state: MetadataState,
  store: CredentialsStore,
): Promise<LabHttpServer> {
  const tokens = new Map<string, number>()
  return startHttpServer((request, response) => {
    if (state.hang) return
    const path = (request.url ?? '/').replace(/^\/+/, '/').split('?')[0]!
    const send = (status: number, body: string, type = 'text/plain') => {
      response.writeHead(status, { 'content-type': type })
      response.end(body)
    }
    if (path === LAMBDA_PATH) {
      if (request.headers.authorization !== `Bearer ${state.lambdaToken}`)
        return send(401, '{"message":"Unauthorized"}', 'application/json')
      return send(200, JSON.stringify({ AvailabilityZoneID: state.azId }), 'application/json')
    }
    if (path === `/v4/${ECS_TASK_ID}/task`) {
      return send(
        200,
        JSON.stringify({
          Cluster: 'privatelink-lab',
          TaskARN: `arn:aws:ecs:${state.region}:111111111111:task/privatelink-lab/${ECS_TASK_ID}`,
          AvailabilityZone: state.azName,
          LaunchType: 'FARGATE',
        }),
        'application/json',
      )
    }
    if (path === '/latest/api/token') {
      if (request.method !== 'PUT') return send(405, 'Method Not Allowed')
      const ttl = Number(request.headers['x-aws-ec2-metadata-token-ttl-seconds'])
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return send(400, 'Bad Request')
      const token = randomBytes(32).toString('base64url')
      tokens.set(token, state.clock() + ttl * 1000)
      return send(200, token)
    }
    if (!path.startsWith('/latest/')) return send(404, 'Not Found')
    const token = request.headers['x-aws-ec2-metadata-token']
    const expiry = typeof token === 'string' ? tokens.get(token) : undefined
    if (expiry === undefined || expiry <= state.clock()) return send(401, 'Unauthorized')
    const credentialsPath = '/latest/meta-data/iam/security-credentials/'
    const network = networkMetadata(store, state.azName, path)
    if (network !== undefined) return network === null ? send(404, 'Not Found') : send(200, network)
    switch (path) {
      case '/latest/meta-data/placement/availability-zone':
        return send(200, state.azName)
      case '/latest/meta-data/placement/availability-zone-id':
        return send(200, state.azId)
      case '/latest/meta-data/placement/region':
        return send(200, state.region)
      case credentialsPath:
        return send(200, state.roleName)
      case `${credentialsPath}${state.roleName}`: {
        const account = state.roleArn.split(':')[4] ?? '111111111111'
        const session = store.issueSession(
          `arn:aws:sts::${account}:assumed-role/${state.roleName}/i-lab`,
          account,
          'AROALAB:i-lab',
          21_600,
        )
        return send(
          200,
          JSON.stringify({
            Code: 'Success',
            LastUpdated: new Date(state.clock()).toISOString(),
            Type: 'AWS-HMAC',
            AccessKeyId: session.accessKeyId,
            SecretAccessKey: session.secretAccessKey,
            Token: session.sessionToken,
            Expiration: session.expiration!.toISOString(),
          }),
          'application/json',
        )
      }
      default:
        return send(404, 'Not Found')
    }
  })
}
