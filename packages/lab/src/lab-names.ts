import { newId, newSuffix } from './identifiers.js'

/** The identifiers and DNS names of the lab's endpoint, chosen once at start. */
export interface LabNames {
  /** `vpce-...`. */
  readonly endpointId: string
  /** `vpce-svc-...`. */
  readonly serviceId: string
  /** `com.amazonaws.vpce.<serviceRegion>.<serviceId>`. */
  readonly serviceName: string
  /** The endpoint's DNS suffix (the part after the endpoint ID). */
  readonly suffix: string
  /** `amazonaws.com`, or `amazonaws.com.cn` in China regions. */
  readonly domain: string
  /** The regional DNS name. */
  readonly regionalName: string
  /** The endpoint's VPC. */
  readonly vpcId: string
  /** The zonal DNS name for an AZ name. */
  zonalName(azName: string): string
}

/** New random identifiers for an endpoint in `region` to a service in `serviceRegion`. */
export function labNames(region: string, serviceRegion: string): LabNames {
  const endpointId = newId('vpce')
  const serviceId = newId('vpce-svc')
  const suffix = newSuffix()
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return Object.freeze({
    endpointId,
    serviceId,
    serviceName: `com.amazonaws.vpce.${serviceRegion}.${serviceId}`,
    suffix,
    domain,
    regionalName: `${endpointId}-${suffix}.${serviceId}.${region}.vpce.${domain}`,
    vpcId: newId('vpc'),
    zonalName: (azName: string) =>
      `${endpointId}-${suffix}-${azName}.${serviceId}.${region}.vpce.${domain}`,
  })
}
