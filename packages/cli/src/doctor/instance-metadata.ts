import { request } from 'node:http'

/** What IMDS says about this machine's network: where its traffic comes from. */
export interface InstanceNetwork {
  privateIp: string
  groupIds: string[]
  vpcId?: string
  subnetId?: string
}

type Env = Record<string, string | undefined>

/** One IMDS request on its own socket, with a deadline; undefined on any failure. */
function imdsRequest(
  url: string,
  method: 'GET' | 'PUT',
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method, headers, agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', () => resolve(undefined))
      response.on('end', () =>
        resolve(response.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined),
      )
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

/**
 * This machine's address and security groups from EC2 instance metadata (IMDSv2), as the AWS SDK
 * finds IMDS (AWS_EC2_METADATA_SERVICE_ENDPOINT, else 169.254.169.254). Undefined off EC2: where
 * AWS_EC2_METADATA_DISABLED is true, on Lambda and on ECS (a task's ENI is not the host's), or when
 * IMDS does not answer in time.
 */
export async function readInstanceNetwork(
  env: Env,
  timeoutMs = 1000,
): Promise<InstanceNetwork | undefined> {
  if ((env['AWS_EC2_METADATA_DISABLED'] ?? '').toLowerCase() === 'true') return undefined
  if (env['AWS_LAMBDA_FUNCTION_NAME'] !== undefined) return undefined
  if (env['ECS_CONTAINER_METADATA_URI_V4'] !== undefined) return undefined
  const base = (
    env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] ??
    (env['AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE']?.toLowerCase() === 'ipv6'
      ? 'http://[fd00:ec2::254]'
      : 'http://169.254.169.254')
  ).replace(/\/+$/, '')
  const token = await imdsRequest(
    `${base}/latest/api/token`,
    'PUT',
    { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
    timeoutMs,
  )
  if (!token) return undefined
  const get = (path: string) =>
    imdsRequest(
      `${base}/latest/meta-data/${path}`,
      'GET',
      { 'x-aws-ec2-metadata-token': token },
      timeoutMs,
    ).then((body) => body?.trim() || undefined)
  const [privateIp, mac] = await Promise.all([get('local-ipv4'), get('mac')])
  if (privateIp === undefined || !/^\d{1,3}(\.\d{1,3}){3}$/.test(privateIp)) return undefined
  if (mac === undefined) return { privateIp, groupIds: [] }
  const at = `network/interfaces/macs/${mac}`
  const [groups, vpcId, subnetId] = await Promise.all([
    get(`${at}/security-group-ids`),
    get(`${at}/vpc-id`),
    get(`${at}/subnet-id`),
  ])
  return {
    privateIp,
    groupIds: (groups ?? '').split('\n').filter((g) => /^sg-[0-9a-f]+$/.test(g)),
    ...(vpcId ? { vpcId } : {}),
    ...(subnetId ? { subnetId } : {}),
  }
}
