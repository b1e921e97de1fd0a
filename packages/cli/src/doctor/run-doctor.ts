import type { Endpoint } from '@privatelink/core'
import { createEc2Client, ec2EndpointUrl, missingRegion, regionFrom } from '../aws-client.js'
import type { Progress } from '../io.js'
import type { RawEndpoint } from '../target.js'
import { type Target, targetRegion } from '../target.js'
import { CheckLog, type CheckResult, type CheckStatus, type DoctorReport } from './check.js'
import { checkDhcpOptions } from './dhcp-options-checks.js'
import { dnsResolver, logNames, namesToCheck, resolveNames } from './dns-checks.js'
import { checkFound, checkPrivateDns, checkState, checkVpcAttributes } from './endpoint-checks.js'
import { checkGatewayEndpoints, checkGatewayTarget } from './gateway-checks.js'
import { checkGatewayRoute } from './gateway-route-checks.js'
import {
  checkHostedZones,
  type DnsFacts,
  explainName,
  readHostedZones,
} from './hosted-zone-checks.js'
import type { IdleSettingGroup } from './idle-settings.js'
import { checkIdleTimeouts } from './idle-timeout-checks.js'
import { readInstanceNetwork } from './instance-metadata.js'
import { defaultStartTls } from './mysql-tls.js'
import { checkLocality, checkReach, checkTls, type ReachResult } from './network-checks.js'
import { checkNetworkPath } from './network-path-checks.js'
import { checkPolicyCall, type PolicyCallRequest } from './policy-call-check.js'
import { checkPolicy } from './policy-checks.js'
import { loadPolicySimulator, type PolicySimulatorLoader } from './policy-simulator.js'

export interface DoctorOptions {
  target: Target
  port?: number
  servername?: string
  region?: string
  vpcId?: string
  /** DNS servers as host:port. @default the system's */
  dns?: string[]
  /** PEM text of extra trusted CAs. */
  ca?: string
  /** @default 'postgres' on port 5432, 'mysql' on 3306, else none */
  starttls?: 'postgres' | 'mysql' | 'none'
  /** Per connect and per handshake. */
  timeoutMs: number
  endpointUrl?: string
  /** The clients to check security groups and ACLs for: addresses, CIDRs, sg- IDs. @default the VPC's CIDR */
  sources?: string[]
  /** `--action`, `--resource`, `--principal`: a call to evaluate the endpoint policy for. */
  policyCall?: PolicyCallRequest
  /** Loads @cloud-copilot/iam-simulate (an optional peer). @default a dynamic import */
  loadPolicySimulator?: PolicySimulatorLoader
  /** Settings the user passes that act on idle connections (flags, `--adapter-options`). */
  idleSettings?: IdleSettingGroup[]
  /** The path's idle timeout. @default 350000 */
  pathIdleTimeoutMs?: number
  env: Record<string, string | undefined>
}

/** The endpoint policy, then (with `--action`) whether it lets the call through. */
async function policyChecks(log: CheckLog, raw: RawEndpoint, options: DoctorOptions) {
  checkPolicy(log, raw.VpcEndpointId!, raw.PolicyDocument, raw.OwnerId)
  if (options.policyCall === undefined) return
  await checkPolicyCall(
    log,
    {
      endpointId: raw.VpcEndpointId!,
      document: raw.PolicyDocument,
      gateway: raw.VpcEndpointType === 'Gateway',
      ...(raw.VpcId !== undefined ? { vpcId: raw.VpcId } : {}),
      ...(raw.OwnerId !== undefined ? { ownerId: raw.OwnerId } : {}),
    },
    options.policyCall,
    options.loadPolicySimulator ?? loadPolicySimulator,
  )
}

/** Runs the checks in the order a person would: endpoint, VPC, DNS, network, TLS, locality. */
export async function runDoctor(
  options: DoctorOptions,
  onResult: (result: CheckResult) => void,
  progress: Progress,
): Promise<DoctorReport> {
  const log = new CheckLog(onResult)
  const region = regionFrom(options.region, options.env, targetRegion(options.target))
  if (region === undefined) throw missingRegion('the EC2 API')
  const endpointUrl = ec2EndpointUrl(options.endpointUrl, options.env)
  const client = await createEc2Client(region, endpointUrl, options.env)
  let endpoint: Endpoint | undefined
  let raw: RawEndpoint | undefined
  let vpcDns: Partial<Record<'enableDnsSupport' | 'enableDnsHostnames', boolean>> = {}
  try {
    progress.update('DescribeVpcEndpoints')
    raw = await checkFound(log, client, options.target, options.vpcId, endpointUrl)
    progress.clear()
    if (raw?.VpcEndpointType === 'Gateway') {
      progress.update('describing the gateway endpoint and its route tables')
      if (await checkGatewayTarget(log, client, raw))
        await checkGatewayRoute(
          log,
          client,
          [raw],
          await readInstanceNetwork(options.env),
          'gateway',
        )
      progress.clear()
      await policyChecks(log, raw, options)
      raw = undefined
    }
    if (raw !== undefined) {
      progress.update('describing the endpoint and its VPC')
      endpoint = await checkState(log, client, raw)
      vpcDns = await checkVpcAttributes(log, client, raw.VpcId, endpointUrl)
      progress.clear()
      checkPrivateDns(log, raw, options.target)
      if (endpoint !== undefined) {
        await policyChecks(log, raw, options)
        const gateways = await checkGatewayEndpoints(log, client, raw)
        if (gateways.length > 0)
          await checkGatewayRoute(
            log,
            client,
            gateways,
            await readInstanceNetwork(options.env),
            'interface',
            raw.VpcEndpointId,
          )
      }
    }
    if (endpoint !== undefined && raw !== undefined) {
      await checkDhcpOptions(log, client, raw.VpcId, region)
      const servers = options.dns
      progress.update('resolving names')
      const resolver = dnsResolver(servers)
      const outcomes = await resolveNames(
        resolver,
        endpoint,
        namesToCheck(endpoint, options.target),
        servers ? servers.join(', ') : 'the system resolver',
      )
      progress.update('ListHostedZonesByVPC')
      const started = performance.now()
      const facts: DnsFacts = { raw, endpoint, region, ...vpcDns }
      const unavailable = await readHostedZones(
        facts,
        region,
        endpointUrl,
        options.env,
        outcomes.map((o) => o.name),
      )
      progress.clear()
      checkHostedZones(log, facts, outcomes, started, unavailable)
      logNames(log, outcomes, (outcome) => explainName(facts, outcome))
      let reached: ReachResult[] | undefined
      if (options.port === undefined) {
        log.add(
          {
            id: 'zone.reach',
            title: 'reach',
            status: 'skip',
            seen: 'no --port given: security groups, ACLs, TCP reach and TLS not checked',
            fix: 'Pass --port with the service port (e.g. --port 5432).',
          },
          performance.now(),
        )
      } else {
        progress.update('reading security groups and network ACLs')
        const explain = await checkNetworkPath(
          log,
          client,
          raw,
          endpoint,
          options.port,
          options.sources,
          options.env,
        )
        progress.clear()
        reached = await checkReach(
          log,
          endpoint,
          options.port,
          options.timeoutMs,
          progress,
          explain,
        )
        if (options.servername !== undefined) {
          const starttls = options.starttls ?? defaultStartTls(options.port)
          await checkTls(
            log,
            reached,
            options.servername,
            options.ca,
            starttls === 'none' ? undefined : starttls,
            options.timeoutMs,
            progress,
          )
        } else {
          log.add(
            {
              id: 'tls.certificate',
              title: 'tls',
              status: 'skip',
              seen: 'no --servername given: certificate not checked',
              fix: "Pass --servername with the name on the service's certificate.",
            },
            performance.now(),
          )
        }
      }
      await checkLocality(log, endpoint, reached, options.env, progress)
    }
  } finally {
    progress.clear()
    client.destroy()
  }
  // Not about the endpoint: the user's own settings against the path's idle timeout.
  checkIdleTimeouts(log, options.idleSettings ?? [], options.pathIdleTimeoutMs)
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 }
  for (const result of log.results) summary[result.status]++
  return {
    schema: 'privatelink.doctor/1',
    target: options.target.input,
    ok: !log.failed(),
    summary,
    endpoint: endpoint ?? null,
    checks: log.results,
  }
}
