/** `us-east-1`, `eu-central-2`, `us-gov-west-1`, `us-isob-east-1`, `cn-north-1`. */
export const REGION_PATTERN = '[a-z]{2}(?:-(?:gov|iso[a-z]?))?-[a-z]+-\\d{1,2}'
const region = new RegExp(`^${REGION_PATTERN}$`)

export function isRegion(value: string): boolean {
  return typeof value === 'string' && region.test(value)
}

/** AZ names: the region plus a letter (`us-west-2a`) or a Local/Wavelength zone (`us-west-2-lax-1a`). */
export function isAzNameOf(azName: string, regionName: string): boolean {
  if (typeof azName !== 'string' || typeof regionName !== 'string') return false
  if (!azName.startsWith(regionName)) return false
  return /^(?:[a-z]|-[a-z0-9]+(?:-[a-z0-9]+)*[a-z])$/.test(azName.slice(regionName.length))
}

const parentRegion = new RegExp(`^(${REGION_PATTERN})(?:[a-z]|-[a-z0-9]+(?:-[a-z0-9]+)*)$`)

/**
 * The region an AZ name belongs to: `us-west-2` for `us-west-2b`, and for the Local Zone
 * `us-west-2-lax-1a` and the Wavelength Zone `us-east-1-wl1-bos-wlz-1` too (their parent region,
 * which is not the name minus its last letter). Undefined for anything that is not an AZ name.
 */
export function regionOfAzName(azName: unknown): string | undefined {
  if (typeof azName !== 'string') return undefined
  return parentRegion.exec(azName)?.[1]
}

const ARN_REGION = new RegExp(`^arn:aws[a-z-]*:[a-z0-9-]+:(${REGION_PATTERN}):`)

/** The region of an ARN (`arn:aws:ecs:us-west-2:...`), or undefined. */
export function regionOfArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined
  return ARN_REGION.exec(arn)?.[1]
}
