import { invalidOption } from '@privatelink/dns'
import type { Locality } from './model.js'
import { integerOption } from './options.js'

export interface DetectLocalityOptions {
  /** Known already: skips every probe. */
  azId?: string
  azName?: string
  region?: string
  /** Per metadata request; a missing IMDS (or a hop limit of 1 in a container) must not stall a cold start. @default 300 */
  timeoutMs?: number
  signal?: AbortSignal
  /** @default process.env */
  env?: Record<string, string | undefined>
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

const LAMBDA_PATH = '/2026-01-15/metadata/execution-environment'

/**
 * Where this code runs, cheapest source first: options, PRIVATELINK_AZ_ID / PRIVATELINK_AZ, the
 * Lambda metadata endpoint, ECS task metadata v4, IMDSv2. Every failure falls through; the
 * answer is `source: 'unknown'` rather than an error.
 */
export async function detectLocality(options: DetectLocalityOptions = {}): Promise<Locality> {
  const env = options.env ?? process.env
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs, 300, 1)
  const fetchImpl = options.fetch ?? globalThis.fetch
  if (typeof fetchImpl !== 'function') throw invalidOption('fetch', 'a fetch function', fetchImpl)
  const region = options.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION']
  const withRegion = (locality: Omit<Locality, 'region'> & { region?: string }): Locality => {
    const r = locality.region ?? region
    return r === undefined ? locality : { ...locality, region: r }
  }
  if (options.azId !== undefined || options.azName !== undefined) {
    return withRegion({ source: 'options', ...pick(options.azName, options.azId) })
  }
  if (env['PRIVATELINK_AZ_ID'] || env['PRIVATELINK_AZ']) {
    return withRegion({
      source: 'env',
      ...pick(env['PRIVATELINK_AZ'] || undefined, env['PRIVATELINK_AZ_ID'] || undefined),
    })
  }

  const get = async (url: string, init: RequestInit = {}): Promise<Response | undefined> => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]
    try {
      const response = await fetchImpl(url, { ...init, signal: AbortSignal.any(signals) })
      return response.ok ? response : undefined
    } catch {
      return undefined
    }
  }

  const lambdaApi = env['AWS_LAMBDA_METADATA_API']
  const lambdaToken = env['AWS_LAMBDA_METADATA_TOKEN']
  if (lambdaApi && lambdaToken) {
    const response = await get(`http://${lambdaApi}${LAMBDA_PATH}`, {
      headers: { authorization: `Bearer ${lambdaToken}` },
    })
    const body = (await response?.json().catch(() => undefined)) as
      | { AvailabilityZoneID?: unknown }
      | undefined
    if (typeof body?.AvailabilityZoneID === 'string')
      return withRegion({ source: 'lambda', azId: body.AvailabilityZoneID })
  }

  const ecsUri = env['ECS_CONTAINER_METADATA_URI_V4']
  if (ecsUri) {
    const response = await get(`${ecsUri.replace(/\/$/, '')}/task`)
    const body = (await response?.json().catch(() => undefined)) as
      | { AvailabilityZone?: unknown }
      | undefined
    if (typeof body?.AvailabilityZone === 'string') {
      return withRegion({
        source: 'ecs',
        azName: body.AvailabilityZone,
        region: body.AvailabilityZone.replace(/[a-z]$/, ''),
      })
    }
  }

  // Lambda has no IMDS; probing it there only costs the timeout.
  const imdsDisabled =
    (env['AWS_EC2_METADATA_DISABLED'] ?? '').toLowerCase() === 'true' ||
    env['AWS_LAMBDA_FUNCTION_NAME'] !== undefined
  if (!imdsDisabled) {
    const base = (
      env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] ??
      (env['AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE']?.toLowerCase() === 'ipv6'
        ? 'http://[fd00:ec2::254]'
        : 'http://169.254.169.254')
    ).replace(/\/+$/, '')
    const tokenResponse = await get(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
    })
    const token = await tokenResponse?.text().catch(() => undefined)
    if (token) {
      const headers = { 'x-aws-ec2-metadata-token': token }
      const read = async (path: string) =>
        (await (
          await get(`${base}/latest/meta-data/placement/${path}`, { headers })
        )
          ?.text()
          .catch(() => undefined)) || undefined
      const [azName, azId, imdsRegion] = await Promise.all([
        read('availability-zone'),
        read('availability-zone-id'),
        read('region'),
      ])
      if (azName !== undefined || azId !== undefined) {
        return withRegion({
          source: 'imds',
          ...pick(azName, azId),
          ...(imdsRegion ? { region: imdsRegion } : {}),
        })
      }
    }
  }
  return withRegion({ source: 'unknown' })
}

function pick(
  azName: string | undefined,
  azId: string | undefined,
): { azName?: string; azId?: string } {
  return { ...(azName !== undefined ? { azName } : {}), ...(azId !== undefined ? { azId } : {}) }
}
