import { readFileSync } from 'node:fs'
import { invalidOption } from '@privatelink/dns'
import { detectLocality } from './locality.js'
import type { Locality } from './model.js'
import { checkOptions, envOption } from './options.js'

type Env = Record<string, string | undefined>

/** PRIVATELINK_AZ_ID / PRIVATELINK_AZ: known at once, without any I/O. */
export function localityFromEnv(env: Env = process.env): Locality | undefined {
  const [azId, azName] = checkOptions('env', env, () => {
    const variables = envOption('env', env)
    return (['PRIVATELINK_AZ_ID', 'PRIVATELINK_AZ'] as const).map((name) => {
      const value = variables[name]
      if (value !== undefined && typeof value !== 'string')
        throw invalidOption(`env.${name}`, 'a string', value)
      // Set but empty is unset.
      return value === '' ? undefined : value
    })
  })
  if (azId === undefined && azName === undefined) return undefined
  return {
    source: 'env',
    ...(azName !== undefined ? { azName } : {}),
    ...(azId !== undefined ? { azId } : {}),
  }
}

// Reading one small sysfs file costs microseconds and tells an EC2 instance apart from a laptop,
// where a metadata request would only wait out its timeout (and leave the machine).
function onEc2(): boolean {
  for (const file of ['/sys/devices/virtual/dmi/id/board_vendor', '/sys/hypervisor/uuid']) {
    try {
      const text = readFileSync(file, 'utf8').trim().toLowerCase()
      if (text.startsWith('amazon') || text.startsWith('ec2')) return true
    } catch {}
  }
  return false
}

/** Whether this environment has a metadata service worth asking (Lambda, ECS, EC2). */
export function metadataAvailable(env: Env = process.env): boolean {
  if (env['AWS_LAMBDA_METADATA_API'] && env['AWS_LAMBDA_METADATA_TOKEN']) return true
  if (env['ECS_CONTAINER_METADATA_URI_V4']) return true
  if (env['AWS_EC2_METADATA_SERVICE_ENDPOINT']) return true
  if ((env['AWS_EC2_METADATA_DISABLED'] ?? '').toLowerCase() === 'true') return false
  return env['AWS_LAMBDA_FUNCTION_NAME'] === undefined && onEc2()
}

/**
 * The connector's default: the environment at once; otherwise metadata in the background, never
 * awaited by a connect (the first connections go by measured connect time until it answers).
 */
export function backgroundLocality(
  onFound: (locality: Locality) => void,
  signal: AbortSignal,
  env: Env = process.env,
): Locality | undefined {
  const known = localityFromEnv(env)
  if (known !== undefined || !metadataAvailable(env)) return known
  detectLocality({ env, signal, timeoutMs: 1_000 }).then(
    (locality) => {
      if (!signal.aborted && (locality.azId !== undefined || locality.azName !== undefined))
        onFound(locality)
    },
    () => {},
  )
  return undefined
}
