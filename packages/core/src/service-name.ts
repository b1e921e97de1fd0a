import { PrivateLinkError } from '@privatelink/dns'
import { describeInput, inputText } from './describe-input.js'
import { REGION_PATTERN } from './region.js'

/**
 * A VPC endpoint service name taken apart (parseServiceName), or to put together
 * (formatServiceName): an AWS service, or an endpoint service (your own, a SaaS, a Marketplace
 * product). Every part is lower case.
 */
export type ServiceName =
  /**
   * `com.amazonaws.us-east-1.s3`, `com.amazonaws.us-east-1.ecr.dkr`; in the China regions also
   * `cn.com.amazonaws.cn-north-1.ecr.api` (AWS lists several China services under that prefix).
   */
  | {
      /** A service AWS runs. */
      kind: 'aws'
      /** `cn.com.amazonaws` only with a China region (`cn-...`). */
      prefix: 'com.amazonaws' | 'cn.com.amazonaws'
      /** The service's region, e.g. `us-east-1`. */
      region: string
      /** One or more DNS labels, e.g. `s3`, `ecr.dkr`, `execute-api`. */
      service: string
    }
  /** `aws.sagemaker.us-east-1.notebook`, `aws.api.us-east-1.kendra-ranking` */
  | {
      /** A service AWS runs. */
      kind: 'aws'
      /** `aws.` and a namespace, e.g. `aws.sagemaker`. */
      prefix: `aws.${string}`
      /** The service's region, e.g. `us-east-1`. */
      region: string
      /** One or more DNS labels, e.g. `notebook`, `kendra-ranking`. */
      service: string
    }
  /**
   * A global service, no region in the name: `com.amazonaws.iam`, `com.amazonaws.route53`
   * (cross-region enabled; the endpoint's region is where your VPC is).
   */
  | {
      /** A service AWS runs. */
      kind: 'aws'
      /** Global services have no China form. */
      prefix: 'com.amazonaws'
      /** None: the service is global. */
      region: undefined
      /** `iam` or `route53`. */
      service: GlobalService
    }
  /**
   * `com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0` (your own, a SaaS or a Marketplace
   * service); `cn.com.amazonaws.vpce.cn-north-1.vpce-svc-...` in the China regions.
   */
  | {
      /** A service its provider publishes as an endpoint service (`vpce-svc-...`). */
      kind: 'endpoint-service'
      /** `cn.com.amazonaws.vpce` only with a China region (`cn-...`). */
      prefix: 'com.amazonaws.vpce' | 'cn.com.amazonaws.vpce'
      /** The region the service is hosted in, e.g. `us-east-1`. */
      region: string
      /** `vpce-svc-` and 17 hex digits. */
      serviceId: string
    }

/** Services AWS names with no region (global control planes reachable through PrivateLink). */
export type GlobalService = 'iam' | 'route53'
const GLOBAL_SERVICES: ReadonlySet<string> = new Set<GlobalService>(['iam', 'route53'])

const SERVICE_PART = '[a-z0-9][a-z0-9-]*(?:\\.[a-z0-9][a-z0-9-]*)*'
const endpointService = new RegExp(
  `^((?:cn\\.)?com\\.amazonaws\\.vpce)\\.(${REGION_PATTERN})\\.(vpce-svc-[0-9a-f]{17})$`,
)
const awsService = new RegExp(
  `^((?:cn\\.)?com\\.amazonaws)\\.(${REGION_PATTERN})\\.(${SERVICE_PART})$`,
)
const awsGlobal = /^com\.amazonaws\.([a-z0-9-]+)$/
const awsNamespaced = new RegExp(
  `^aws\\.([a-z0-9][a-z0-9-]*)\\.(${REGION_PATTERN})\\.(${SERVICE_PART})$`,
)

// The cn. prefix belongs to the China partition: `cn.com.amazonaws.us-east-1.s3` is a typo.
const prefixFitsRegion = (prefix: string, region: string) =>
  !prefix.startsWith('cn.') || region.startsWith('cn-')

/**
 * Takes an endpoint service name apart (trimmed, lower-cased). Throws ERR_INVALID_SERVICE_NAME for
 * anything else, e.g. a `cn.` prefix with a region outside China or a global name other than
 * `com.amazonaws.iam` and `com.amazonaws.route53`.
 */
export function parseServiceName(input: string): ServiceName {
  if (typeof input === 'string') {
    const name = input.trim().toLowerCase()
    // Every group of these patterns takes part in a match: '' never shows.
    const [, prefix = '', region = '', id = ''] = endpointService.exec(name) ?? []
    if (prefix && prefixFitsRegion(prefix, region))
      return {
        kind: 'endpoint-service',
        prefix: prefix as 'com.amazonaws.vpce' | 'cn.com.amazonaws.vpce',
        region,
        serviceId: id,
      }
    const [, awsPrefix = '', awsRegion = '', service = ''] = awsService.exec(name) ?? []
    if (awsPrefix && prefixFitsRegion(awsPrefix, awsRegion))
      return {
        kind: 'aws',
        prefix: awsPrefix as 'com.amazonaws' | 'cn.com.amazonaws',
        region: awsRegion,
        service,
      }
    const [, global = ''] = awsGlobal.exec(name) ?? []
    if (global && GLOBAL_SERVICES.has(global))
      return {
        kind: 'aws',
        prefix: 'com.amazonaws',
        region: undefined,
        service: global as GlobalService,
      }
    const namespaced = awsNamespaced.exec(name)
    if (namespaced) {
      const [, space = '', nsRegion = '', nsService = ''] = namespaced
      return { kind: 'aws', prefix: `aws.${space}`, region: nsRegion, service: nsService }
    }
  }
  throw new PrivateLinkError(
    'ERR_INVALID_SERVICE_NAME',
    `Invalid endpoint service name ${describeInput(input)}`,
    {
      hint: 'Use the name shown by aws ec2 describe-vpc-endpoint-services, e.g. com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0, com.amazonaws.us-east-1.execute-api, cn.com.amazonaws.cn-north-1.ecr.api, or a global service such as com.amazonaws.iam.',
      details: {
        input: inputText(input),
        example: 'com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0',
      },
    },
  )
}

/** The service name of its parts: the inverse of parseServiceName. The parts are not checked. */
export function formatServiceName(name: ServiceName): string {
  if (name.kind === 'endpoint-service') return `${name.prefix}.${name.region}.${name.serviceId}`
  return name.region === undefined
    ? `${name.prefix}.${name.service}`
    : `${name.prefix}.${name.region}.${name.service}`
}
