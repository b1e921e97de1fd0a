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
