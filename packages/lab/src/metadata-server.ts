import { randomBytes } from 'node:crypto'
import type { CredentialsStore } from './credentials-store.js'
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
