import { DEFAULT_IDLE_TIMEOUT_MS, type IdleSettings, readIdleSettings } from './idle-flows.js'
import type { LabOptions, LabZoneOptions } from './lab.js'
import type { LabRole } from './sts-api.js'

/** The lab's options, checked and defaulted once, before anything starts. */
export interface LabConfig {
  /** The consumer's region. */
  readonly region: string
  /** The service's region (fronts live there). */
  readonly serviceRegion: string
  /** The endpoint's zones. */
  readonly zones: readonly LabZoneOptions[]
  /** The requested loopback block's second octet, if any. */
  readonly addressBlock: number | undefined
  /** The lab clock. */
  readonly clock: () => number
  /** The lab-wide idle flow settings. */
  readonly idle: IdleSettings
  /** Per zone, its idle flow settings at start. */
  readonly zoneIdle: readonly IdleSettings[]
  /** The account the lab's credentials belong to. */
  readonly accountId: string
  /** The DNS answers' TTL in seconds. */
  readonly dnsTtl: number
  /** Roles STS lets the lab's credentials assume. */
  readonly roles: LabRole[]
  /** The AWS service the endpoint is for (`LabOptions.awsService`), if any. */
  readonly awsService: string | undefined
}

const defaultZones = (region: string): LabZoneOptions[] => {
  const short = region.replace(/^(\w\w)-(\w)\w*-(\d+)$/, '$1$2$3')
  return ['a', 'b', 'c'].map((letter, index) => ({
    name: `${region}${letter}`,
    id: `${short}-az${index + 1}`,
  }))
}

/** Checks the options startLab reads first, and fills their defaults. */
export function labConfig(options: LabOptions): LabConfig {
  const region = options.region ?? 'us-west-2'
  const serviceRegion = options.serviceRegion ?? region
  if (typeof serviceRegion !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(serviceRegion))
    throw new Error(
      `startLab: serviceRegion must be a region name like us-east-1, got ${String(serviceRegion)}`,
    )
  const zones = options.zones ?? defaultZones(region)
  if (zones.length === 0 || zones.length > 250)
    throw new Error('startLab: zones must hold 1 to 250 zones')
  const octet = options.addressBlock
  if (octet !== undefined && (!Number.isInteger(octet) || octet < 0 || octet > 255))
    throw new Error(`startLab: addressBlock must be an integer 0..255, got ${String(octet)}`)
  const { awsService } = options
  if (
    awsService !== undefined &&
    (typeof awsService !== 'string' || !/^[a-z0-9.-]+$/.test(awsService))
  )
    throw new Error(
      `startLab: awsService must be an AWS service key like dynamodb or s3, got ${String(awsService)}`,
    )
  const idle = readIdleSettings('', options, {
    timeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    mode: 'reset',
  })
  return {
    region,
    serviceRegion,
    zones,
    addressBlock: octet,
    clock: options.clock ?? Date.now,
    idle,
    zoneIdle: zones.map((zone, index) => readIdleSettings(`zones[${index}].`, zone, idle)),
    accountId: options.accountId ?? '111111111111',
    dnsTtl: options.dnsTtl ?? 60,
    awsService,
    roles: options.roles ?? [
      {
        arn: 'arn:aws:iam::222222222222:role/privatelink-cross-account',
        externalId: 'privatelink-lab',
      },
    ],
  }
}
