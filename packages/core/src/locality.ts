import { invalidOption } from '@privatelink/dns'
import { type MetadataResponse, metadataRequest } from './metadata-http.js'
import type { Locality } from './model.js'
import { checkOptions, envOption, integerOption, signalOption, stringOption } from './options.js'
import { regionOfArn, regionOfAzName } from './region.js'

/** Why one metadata source gave no answer: a socket code, `HTTP 404`, `timeout`, ... Never a token. */
export interface LocalityFailure {
  /** The metadata source: Lambda's metadata endpoint, ECS task metadata v4, or EC2 IMDSv2. */
  source: 'lambda' | 'ecs' | 'imds'
  /**
   * What went wrong: a socket code (`ECONNREFUSED`), `timeout`, `aborted`, `HTTP 404`, `not a
   * JSON object`, `no AvailabilityZone`, `empty token`, `not asked on Lambda`...
   */
  error: string
}

/** A Locality; when `source` is 'unknown', `reasons` says what each source tried answered. */
export type DetectedLocality = Locality & {
  /**
   * Only with `source: 'unknown'`: why each source tried gave no answer, in order (one source may
   * add several).
   */
  reasons?: LocalityFailure[]
}

/** Options of detectLocality; without them it reads the environment, then the metadata services. */
export interface DetectLocalityOptions {
  /** The AZ ID, when known already (e.g. `use1-az4`): skips every probe. */
  azId?: string
  /** The AZ name, when known already (e.g. `us-east-1b`): skips every probe, as `azId` does. */
  azName?: string
  /**
   * The region to report when the answer's source has none (IMDS and ECS report their own).
   * @default AWS_REGION, else AWS_DEFAULT_REGION, from `env`
   */
  region?: string
  /** Per metadata request; a missing IMDS (or a hop limit of 1 in a container) must not stall a cold start. @default 300 */
  timeoutMs?: number
  /**
   * Aborts the metadata requests: pending and later ones fail as `aborted`, and detection answers
   * `source: 'unknown'`. @default none
   */
  signal?: AbortSignal
  /**
   * The environment read for PRIVATELINK_AZ_ID / PRIVATELINK_AZ, the region and the metadata
   * services' variables (AWS_LAMBDA_METADATA_API, ECS_CONTAINER_METADATA_URI_V4, AWS_EC2_*).
   * @default process.env
   */
  env?: Record<string, string | undefined>
  /**
   * A fetch to use instead of the built-in node:http client (which never goes through undici's
   * global dispatcher). @default node:http, agentless
   */
  fetch?: typeof fetch
}

const LAMBDA_PATH = '/2026-01-15/metadata/execution-environment'

/**
 * Where this code runs, cheapest source first: options, PRIVATELINK_AZ_ID / PRIVATELINK_AZ, the
 * Lambda metadata endpoint, ECS task metadata v4, IMDSv2. Every failure falls through; the
 * answer is `source: 'unknown'` with `reasons` rather than an error.
 */
export async function detectLocality(given: DetectLocalityOptions = {}): Promise<DetectedLocality> {
  // Checked before any request: a bad signal would otherwise throw later, in a listener.
  const options = checkOptions('options', given, () => localityOptions(given))
  const env = options.env ?? process.env
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs, 300, 1)
  const fetchImpl = options.fetch
  const reasons: LocalityFailure[] = []
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

  type Source = LocalityFailure['source']
  // One metadata GET/PUT: the body on a 2xx, else undefined with the reason recorded.
  const get = async (
    source: Source,
    url: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<string | undefined> => {
    let response: MetadataResponse
    try {
      response =
        fetchImpl === undefined
          ? await metadataRequest(url, { ...init, timeoutMs, signal: options.signal })
          : await viaFetch(fetchImpl, url, init, timeoutMs, options.signal)
    } catch (error) {
      reasons.push({ source, error: failureOf(error) })
      return undefined
    }
    if (response.status < 200 || response.status > 299) {
      reasons.push({ source, error: `HTTP ${response.status}` })
      return undefined
    }
    return response.body
  }
  const json = (source: Source, body: string | undefined): Record<string, unknown> | undefined => {
    if (body === undefined) return undefined
    try {
      const value: unknown = JSON.parse(body)
      if (typeof value === 'object' && value !== null) return value as Record<string, unknown>
    } catch {}
    reasons.push({ source, error: 'not a JSON object' })
    return undefined
  }

  const lambdaApi = env['AWS_LAMBDA_METADATA_API']
  const lambdaToken = env['AWS_LAMBDA_METADATA_TOKEN']
  if (lambdaApi && lambdaToken) {
    const body = json(
      'lambda',
      await get('lambda', `http://${lambdaApi}${LAMBDA_PATH}`, {
        headers: { authorization: `Bearer ${lambdaToken}` },
      }),
    )
    if (typeof body?.['AvailabilityZoneID'] === 'string')
      return withRegion({ source: 'lambda', azId: body['AvailabilityZoneID'] })
    if (body !== undefined) reasons.push({ source: 'lambda', error: 'no AvailabilityZoneID' })
  }

  const ecsUri = env['ECS_CONTAINER_METADATA_URI_V4']
  if (ecsUri) {
    const body = json('ecs', await get('ecs', `${ecsUri.replace(/\/$/, '')}/task`))
    const zone = body?.['AvailabilityZone']
    if (typeof zone === 'string') {
      // The task's own ARN names its region; else the zone's parent region (a Local Zone such as
      // us-west-2-lax-1a is in us-west-2, not in "us-west-2-lax-1").
      const ecsRegion = regionOfArn(body?.['TaskARN']) ?? regionOfAzName(zone)
      return withRegion({
        source: 'ecs',
        azName: zone,
        ...(ecsRegion ? { region: ecsRegion } : {}),
      })
    }
    if (body !== undefined) reasons.push({ source: 'ecs', error: 'no AvailabilityZone' })
  }

  // Lambda has no IMDS; probing it there only costs the timeout.
  const imdsDisabled =
    (env['AWS_EC2_METADATA_DISABLED'] ?? '').toLowerCase() === 'true'
      ? 'disabled by AWS_EC2_METADATA_DISABLED'
      : env['AWS_LAMBDA_FUNCTION_NAME'] !== undefined
        ? 'not asked on Lambda'
        : undefined
  if (imdsDisabled !== undefined) {
    reasons.push({ source: 'imds', error: imdsDisabled })
  } else {
    const base = (
      env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] ??
      (env['AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE']?.toLowerCase() === 'ipv6'
        ? 'http://[fd00:ec2::254]'
        : 'http://169.254.169.254')
    ).replace(/\/+$/, '')
    const token = await get('imds', `${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
    })
    if (token) {
      const headers = { 'x-aws-ec2-metadata-token': token }
      const read = async (path: string) =>
        (await get('imds', `${base}/latest/meta-data/placement/${path}`, { headers })) || undefined
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
    } else if (token === '') {
      reasons.push({ source: 'imds', error: 'empty token' })
    }
  }
  return { ...withRegion({ source: 'unknown' }), reasons }
}

/** The variables detection reads. */
const ENV_READ = [
  'PRIVATELINK_AZ_ID',
  'PRIVATELINK_AZ',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_METADATA_API',
  'AWS_LAMBDA_METADATA_TOKEN',
  'AWS_LAMBDA_FUNCTION_NAME',
  'ECS_CONTAINER_METADATA_URI_V4',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE',
] as const

/** The options read once and checked: each one a typed error at the call, never later. */
function localityOptions(given: unknown): DetectLocalityOptions {
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw invalidOption('options', 'an object', given)
  const options = { ...(given as DetectLocalityOptions) }
  stringOption('azId', options.azId, 'an AZ ID such as use1-az4')
  stringOption('azName', options.azName, 'an AZ name such as us-east-1b')
  stringOption('region', options.region, 'a region name')
  integerOption('timeoutMs', options.timeoutMs, 300, 1)
  signalOption('signal', options.signal)
  if (options.env !== undefined) options.env = { ...envOption('env', options.env, ENV_READ) }
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw invalidOption('fetch', 'a fetch function', options.fetch)
  return options
}

async function viaFetch(
  fetchImpl: typeof fetch,
  url: string,
  init: { method?: string; headers?: Record<string, string> },
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<MetadataResponse> {
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]
  const response = await fetchImpl(url, { ...init, signal: AbortSignal.any(signals) })
  return { status: response.status, body: await response.text() }
}

// A short, secret-free reason: the socket code, or the error's name. Never the message, which
// for some clients repeats the URL or headers.
function failureOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ETIMEDOUT' || (error as { name?: unknown } | null)?.name === 'TimeoutError')
    return 'timeout'
  if (code === 'ABORT_ERR' || (error as { name?: unknown } | null)?.name === 'AbortError')
    return 'aborted'
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code
  const causeCode = (error as { cause?: { code?: unknown } } | null)?.cause?.code
  if (typeof causeCode === 'string' && /^[A-Z0-9_]{2,40}$/.test(causeCode)) return causeCode
  const name = (error as { name?: unknown } | null)?.name
  return typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : 'failed'
}

function pick(
  azName: string | undefined,
  azId: string | undefined,
): { azName?: string; azId?: string } {
  return { ...(azName !== undefined ? { azName } : {}), ...(azId !== undefined ? { azId } : {}) }
}
