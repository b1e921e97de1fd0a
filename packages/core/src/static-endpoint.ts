import {
  type AddressGuard,
  type Cidr,
  cidrContains,
  createAddressGuard,
  DEFAULT_ALLOWED_RANGES,
  invalidOption,
  PrivateLinkError,
  parseCidr,
  parseIpAddress,
} from '@privatelink/dns'
import { describeInput, inputText } from './describe-input.js'
import { parseEndpointDnsName, zonalDnsName } from './endpoint-dns-name.js'
import { assertEndpointId } from './endpoint-id.js'
import type { Endpoint, EndpointZone } from './model.js'
import { checkOptions, envOption } from './options.js'
import { isAzNameOf, isRegion } from './region.js'
import { parseServiceName } from './service-name.js'

/** One zone of a StaticEndpointConfig: its AZ, and the ENI's addresses to dial without DNS. */
export interface StaticZoneConfig {
  /**
   * The AZ name in the endpoint owner's account, e.g. `us-east-1a`: a zone of the endpoint's
   * region, one entry per zone.
   */
  azName: string
  /**
   * The AZ ID, e.g. `use1-az4`: the own zone is matched by AZ ID when the zones and the locality
   * have one, since AZ names map to different zones in different accounts.
   */
  azId?: string
  /**
   * The ENI's IPs; when absent the connector resolves the zonal DNS name. Each must be inside
   * `allowedRanges` or inside one of this zone's `cidrs` (a dual-stack ENI's global unicast IPv6).
   */
  addresses?: string[]
  /**
   * The zone's subnet CIDRs, IPv4 and IPv6, as discovery reports them. The endpoint guard lets
   * them through, so no wider than a subnet can be: IPv4 /16 or longer, IPv6 /44 or longer.
   */
  cidrs?: string[]
  /**
   * The zonal DNS name; it must equal the one derived from the regional `dnsName`.
   * @default derived from `dnsName` and `azName`
   */
  dnsName?: string
  /** The endpoint's subnet in this zone (`subnet-` and 8 or 17 hex digits); not used to connect. */
  subnetId?: string
  /**
   * The endpoint's network interface in this zone (`eni-` and 8 or 17 hex digits); not used to
   * connect.
   */
  networkInterfaceId?: string
  /**
   * Listener port -> port dialled in this zone, integers 1-65535. AWS never needs it (an NLB
   * listens on the same port in every zone); the lab uses it for ports it could not bind.
   * @default none: the listener port
   */
  portMap?: Record<string, number>
}

/**
 * An endpoint described by hand, for endpointFromConfig and PRIVATELINK_ENDPOINTS: the shape
 * `privatelink describe --json` prints. Only `dnsName` and `zones` are required.
 */
export interface StaticEndpointConfig {
  /** The regional DNS name (`vpce-<id>-<suffix>.<service>.<region>.vpce.amazonaws.com`). */
  dnsName: string
  /** One entry per Availability Zone the endpoint has a network interface in; at least one. */
  zones: StaticZoneConfig[]
  /** Taken from `dnsName` when absent. */
  id?: string
  /** The endpoint's region; taken from `dnsName`, and must agree with it when given. */
  region?: string
  /**
   * The service's region for a cross-region endpoint (tokens and SigV4 are signed for it). When
   * absent, the region in `serviceName` when that differs from the endpoint's, as discovery does.
   * @default the endpoint's region
   */
  serviceRegion?: string
  /**
   * The endpoint service's name, e.g. `com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0`
   * (checked with parseServiceName); endpointFromEnv can select by it.
   */
  serviceName?: string
  /**
   * The service's private DNS name, e.g. `api.example.com` (stored lower-cased, without a trailing
   * dot); endpointFromEnv can select by it.
   */
  privateDnsName?: string
  /** The consumer VPC the endpoint is in (`vpc-` and 8 or 17 hex digits); not used to connect. */
  vpcId?: string
  /**
   * The endpoint's state as EC2 reports it, e.g. `available` (letters only); endpointFromConfig
   * accepts any.
   */
  state?: string
}

function configError(why: string, input: unknown): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_ENDPOINT_CONFIG',
    `Invalid endpoint configuration: ${why}`,
    {
      hint: 'Pass { dnsName, zones: [{ azName, azId?, addresses? }] }, or the JSON that `privatelink describe --json` prints.',
      details: { input: inputText(input) },
    },
  )
}

/** Options of endpointFromConfig, endpointsFromEnv and endpointFromEnv. */
export interface StaticConfigOptions {
  /**
   * CIDRs a zone address may fall in. Loopback is in the default because a static address is
   * written by the operator (an SSM port forward, the lab), unlike a DNS answer.
   * @default RFC 1918, 100.64.0.0/10, fc00::/7, 127.0.0.0/8 and ::1/128
   */
  allowedRanges?: string[]
}

/** What static zone addresses may be, unless `allowedRanges` says otherwise. */
export const STATIC_ALLOWED_RANGES: readonly string[] = Object.freeze([
  ...DEFAULT_ALLOWED_RANGES,
  '127.0.0.0/8',
  '::1/128',
])

const RESOURCE_ID = (prefix: string) => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)
const SUBNET_ID = RESOURCE_ID('subnet')
const ENI_ID = RESOURCE_ID('eni')
const VPC_ID = RESOURCE_ID('vpc')
const AZ_ID = /^[a-z]{3,6}\d{1,2}-(?:[a-z]+\d+-)?az\d{1,2}$/
const HOST_LABEL = /^(?:\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)$/

/** A bad field, named by its path, with the value and why. */
function fieldError(
  option: string,
  expected: string,
  value: unknown,
  why?: string,
): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option '${option}': ${describeInput(value)} ${why ?? `is not ${expected}`}`,
    {
      hint: `Pass '${option}' as ${expected}. The JSON \`privatelink describe --json\` prints is always valid.`,
      details: { option, expected, received: inputText(value) },
    },
  )
}

function validAddress(value: unknown, option: string, guard: AddressGuard): string {
  const expected = `an IP address (not a name) inside ${guard.allowedRanges.join(', ')}`
  const parsed = parseIpAddress(value)
  if (parsed === undefined || typeof value !== 'string')
    throw fieldError(
      option,
      expected,
      value,
      'is not an IP address literal (names such as localhost are resolved by the OS, outside the guard)',
    )
  if (parsed.bytes.every((byte) => byte === 0))
    throw fieldError(option, expected, value, 'is the unspecified address, which dials this host')
  if (!guard.allows(value))
    throw fieldError(
      option,
      expected,
      value,
      `is outside the allowed ranges (${guard.allowedRanges.join(', ')})`,
    )
  return value
}

/** An address written in a zone: inside the allowed ranges, or inside the zone's own subnets. */
function validZoneAddress(
  value: unknown,
  option: string,
  guard: AddressGuard,
  cidrs: readonly Cidr[],
): string {
  const parsed = parseIpAddress(value)
  if (
    parsed !== undefined &&
    typeof value === 'string' &&
    !guard.allows(value) &&
    cidrs.some((cidr) => cidrContains(cidr, parsed)) &&
    !parsed.bytes.every((byte) => byte === 0)
  )
    return value
  return validAddress(value, option, guard)
}

// A subnet is never wider than this (IPv4 VPCs are /16 at most; IPv6 subnets /44 at most with
// IPAM, /64 otherwise): a wider "subnet" would open the endpoint's guard to far more than it.
const WIDEST_SUBNET = { 4: 16, 6: 44 } as const

function validCidrs(value: unknown, option: string): { text: string[]; parsed: Cidr[] } {
  const expected = 'an array of the subnet\'s CIDRs, e.g. ["10.0.1.0/24", "2600:1f18:abcd:1::/64"]'
  if (!Array.isArray(value)) throw fieldError(option, expected, value)
  const text: string[] = []
  const parsed: Cidr[] = []
  value.forEach((cidr: unknown, index) => {
    const at = `${option}[${index}]`
    const range = parseCidr(cidr, at)
    if (range.prefix < WIDEST_SUBNET[range.family])
      throw fieldError(
        at,
        expected,
        cidr,
        `is wider than any subnet (/${WIDEST_SUBNET[range.family]} at most for IPv${range.family})`,
      )
    const written = (cidr as string).toLowerCase()
    if (!text.includes(written)) {
      text.push(written)
      parsed.push(range)
    }
  })
  return { text, parsed }
}

function validPortMap(value: unknown, option: string): Record<string, number> {
  const expected = 'an object of listener port -> dialled port, integers 1-65535'
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fieldError(option, expected, value)
  const result: Record<string, number> = {}
  for (const [key, port] of Object.entries(value)) {
    if (!/^[1-9]\d{0,4}$/.test(key) || Number(key) > 65_535)
      throw fieldError(`${option}.${key}`, expected, key, 'is not a port number (1-65535)')
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
      throw fieldError(`${option}.${key}`, expected, port, 'is not a port number (1-65535)')
    result[key] = port
  }
  return result
}

function validPattern(value: unknown, option: string, pattern: RegExp, expected: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw fieldError(option, expected, value)
  return value
}

function validHostname(value: unknown, option: string): string {
  const expected = 'a DNS name such as api.example.com'
  if (typeof value !== 'string') throw fieldError(option, expected, value)
  const name = value.toLowerCase().replace(/\.$/, '')
  if (name.length > 253 || !name.split('.').every((label) => HOST_LABEL.test(label)))
    throw fieldError(option, expected, value)
  return name
}

/**
 * An endpoint without calling AWS (Lambda cold starts, locked-down roles): from the regional name
 * and the zones, deriving each zonal name; or from the JSON `privatelink describe --json` prints.
 * Every field is checked: zone addresses must be IP literals inside `allowedRanges` (a name or
 * 0.0.0.0 would be resolved or dialled outside the guard), port maps integers 1-65535.
 */
export function endpointFromConfig(
  config: StaticEndpointConfig | string,
  options: StaticConfigOptions = {},
): Endpoint {
  return checkOptions('config', config, () =>
    checkOptions('options', options, () => fromConfig(config, options)),
  )
}

function fromConfig(config: StaticEndpointConfig | string, options: StaticConfigOptions): Endpoint {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  const guard = createAddressGuard({
    allowedRanges: options.allowedRanges ?? STATIC_ALLOWED_RANGES,
  })
  let value: unknown = config
  if (typeof config === 'string') {
    try {
      value = JSON.parse(config)
    } catch (cause) {
      throw Object.assign(configError('not valid JSON', config), { cause })
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw configError('expected an object', value)
  const input = value as Partial<StaticEndpointConfig> & { region?: unknown }
  if (typeof input.dnsName !== 'string')
    throw invalidOption('dnsName', 'the regional DNS name of the endpoint', input.dnsName)
  const regionalName = input.dnsName
  const parsed = parseEndpointDnsName(regionalName)
  if (parsed.kind !== 'regional')
    throw invalidOption('dnsName', 'the regional (not zonal) DNS name', input.dnsName)
  const id = assertEndpointId(input.id ?? parsed.endpointId, 'id')
  if (id !== parsed.endpointId)
    throw configError(`id ${id} does not match dnsName ${input.dnsName}`, value)
  if (input.region !== undefined && input.region !== parsed.region)
    throw fieldError('region', `${parsed.region}, the region in dnsName`, input.region)
  if (!Array.isArray(input.zones) || input.zones.length === 0)
    throw invalidOption('zones', 'a non-empty array of { azName, azId?, addresses? }', input.zones)
  const seen = new Set<string>()
  const zones = input.zones.map((zone: StaticZoneConfig | undefined, index): EndpointZone => {
    const at = `zones[${index}]`
    if (typeof zone !== 'object' || zone === null || Array.isArray(zone))
      throw invalidOption(at, 'an object { azName, azId?, addresses? }', zone)
    if (typeof zone.azName !== 'string' || !isAzNameOf(zone.azName, parsed.region)) {
      throw invalidOption(
        `${at}.azName`,
        `an AZ name in ${parsed.region}, e.g. ${parsed.region}a`,
        zone.azName,
      )
    }
    if (seen.has(zone.azName))
      throw fieldError(`${at}.azName`, 'one entry per zone', zone.azName, 'appears twice')
    seen.add(zone.azName)
    if (zone.azId !== undefined && (typeof zone.azId !== 'string' || !AZ_ID.test(zone.azId))) {
      throw invalidOption(`${at}.azId`, 'an AZ ID such as usw2-az1', zone.azId)
    }
    if (zone.addresses !== undefined && !Array.isArray(zone.addresses)) {
      throw invalidOption(`${at}.addresses`, 'an array of IP address strings', zone.addresses)
    }
    const cidrs = zone.cidrs === undefined ? undefined : validCidrs(zone.cidrs, `${at}.cidrs`)
    const addresses = (zone.addresses ?? []).map((address, position) =>
      validZoneAddress(address, `${at}.addresses[${position}]`, guard, cidrs?.parsed ?? []),
    )
    const derived = zonalDnsName(regionalName, zone.azName)
    let dnsName = derived
    if (zone.dnsName !== undefined) {
      const own =
        typeof zone.dnsName === 'string'
          ? zone.dnsName.toLowerCase().replace(/\.$/, '')
          : zone.dnsName
      if (own !== derived)
        throw fieldError(
          `${at}.dnsName`,
          `the zonal name ${derived} (or leave it out)`,
          zone.dnsName,
        )
      dnsName = own
    }
    const result: EndpointZone = { azName: zone.azName, dnsName, addresses }
    if (cidrs !== undefined && cidrs.text.length > 0) result.cidrs = cidrs.text
    if (zone.azId !== undefined) result.azId = zone.azId
    if (zone.subnetId !== undefined)
      result.subnetId = validPattern(
        zone.subnetId,
        `${at}.subnetId`,
        SUBNET_ID,
        'a subnet ID such as subnet-0123456789abcdef0',
      )
    if (zone.networkInterfaceId !== undefined)
      result.networkInterfaceId = validPattern(
        zone.networkInterfaceId,
        `${at}.networkInterfaceId`,
        ENI_ID,
        'a network interface ID such as eni-0123456789abcdef0',
      )
    if (zone.portMap !== undefined) result.portMap = validPortMap(zone.portMap, `${at}.portMap`)
    return result
  })
  const endpoint: Endpoint = {
    id,
    region: parsed.region,
    dnsName: input.dnsName.toLowerCase(),
    zones,
  }
  let nameRegion: string | undefined
  if (input.serviceName !== undefined) {
    if (typeof input.serviceName !== 'string')
      throw fieldError('serviceName', 'an endpoint service name', input.serviceName)
    nameRegion = parseServiceName(input.serviceName).region
    endpoint.serviceName = input.serviceName
  }
  // Cross-region PrivateLink: tokens are signed for the service's region, so it must survive
  // PRIVATELINK_ENDPOINTS. Same-region endpoints leave it out, as discovery does.
  let serviceRegion: string | undefined
  if (input.serviceRegion !== undefined) {
    if (typeof input.serviceRegion !== 'string' || !isRegion(input.serviceRegion))
      throw fieldError(
        'serviceRegion',
        "the service's region, e.g. us-east-1 (where the service is hosted)",
        input.serviceRegion,
      )
    if (nameRegion !== undefined && nameRegion !== input.serviceRegion)
      throw fieldError(
        'serviceRegion',
        `${nameRegion}, the region in serviceName`,
        input.serviceRegion,
        `disagrees with serviceName ${input.serviceName}`,
      )
    serviceRegion = input.serviceRegion
  } else {
    serviceRegion = nameRegion
  }
  if (serviceRegion !== undefined && serviceRegion !== endpoint.region)
    endpoint.serviceRegion = serviceRegion
  if (input.privateDnsName !== undefined)
    endpoint.privateDnsName = validHostname(input.privateDnsName, 'privateDnsName')
  if (input.vpcId !== undefined)
    endpoint.vpcId = validPattern(
      input.vpcId,
      'vpcId',
      VPC_ID,
      'a VPC ID such as vpc-0123456789abcdef0',
    )
  if (input.state !== undefined) {
    if (typeof input.state !== 'string' || !/^[A-Za-z]{1,40}$/.test(input.state))
      throw fieldError('state', 'an endpoint state such as available', input.state)
    endpoint.state = input.state
  }
  return endpoint
}

/**
 * Endpoints from `PRIVATELINK_ENDPOINTS`: one endpoint object or an array of them (the JSON
 * `privatelink describe --json` prints), each checked as endpointFromConfig does. Unset or
 * blank: none.
 */
export function endpointsFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: StaticConfigOptions = {},
): Endpoint[] {
  const text = checkOptions('env', env, () => envOption('env', env)['PRIVATELINK_ENDPOINTS'])
  if (text !== undefined && typeof text !== 'string')
    throw invalidOption('env.PRIVATELINK_ENDPOINTS', 'a JSON string', text)
  if (text === undefined || text.trim() === '') return []
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw Object.assign(configError('PRIVATELINK_ENDPOINTS is not valid JSON', text), { cause })
  }
  return (Array.isArray(value) ? value : [value]).map((item) =>
    endpointFromConfig(item as StaticEndpointConfig, options),
  )
}

/**
 * The one endpoint in `PRIVATELINK_ENDPOINTS` (see endpointsFromEnv), or with `select`, the one
 * whose id, dnsName, privateDnsName or serviceName equals it. Throws ERR_ENDPOINT_NOT_FOUND when
 * none matches (or the variable is unset) and ERR_AMBIGUOUS_ENDPOINT when several do.
 */
export function endpointFromEnv(
  select?: string,
  env: Record<string, string | undefined> = process.env,
  options: StaticConfigOptions = {},
): Endpoint {
  if (select !== undefined && typeof select !== 'string')
    throw invalidOption(
      'select',
      'an endpoint id, DNS name or service name (a string), or nothing',
      select,
    )
  const endpoints = endpointsFromEnv(env, options)
  const matches =
    select === undefined
      ? endpoints
      : endpoints.filter((e) => [e.id, e.dnsName, e.privateDnsName, e.serviceName].includes(select))
  const [only] = matches
  if (matches.length === 1 && only !== undefined) return only
  throw new PrivateLinkError(
    matches.length === 0 ? 'ERR_ENDPOINT_NOT_FOUND' : 'ERR_AMBIGUOUS_ENDPOINT',
    matches.length === 0
      ? `No endpoint${select ? ` matching ${select}` : ''} in PRIVATELINK_ENDPOINTS`
      : `${matches.length} endpoints in PRIVATELINK_ENDPOINTS match${select ? ` ${select}` : ''}`,
    {
      hint: 'Set PRIVATELINK_ENDPOINTS to the JSON `privatelink describe --json` prints, and select by endpoint id, DNS name or service name.',
      details: { select: select ?? null, endpoints: endpoints.map((e) => e.id) },
    },
  )
}
