import {
  detectLocality,
  type Endpoint,
  type EndpointZone,
  findOwnZone,
  orderZones,
} from '@privatelink/core'
import type { Progress } from '../io.js'
import type { CheckLog } from './check.js'
import type { StartTls } from './mysql-tls.js'
import { tcpProbe, tlsProbe } from './probe.js'

/** The port dialled in a zone: the listener port, unless the zone maps it (the lab without root). */
export const zonePort = (zone: EndpointZone, port: number): number =>
  zone.portMap?.[String(port)] ?? port

function reachFix(code: string, port: number, cleared = false): string {
  // The security group and this zone's ACL were read and admit the port: never send the user back
  // there for a timeout; what is left is the client's side or the service behind the endpoint.
  if (code === 'ETIMEDOUT' && cleared)
    return `Connects to port ${port} go unanswered although the security groups and this zone's network ACL admit them (above): check the client's own subnet ACL and any firewall on the way, then ask the provider whether the NLB has a healthy target in this zone (cross-zone load balancing is off by default).`
  if (code === 'ECONNREFUSED')
    return `Nothing accepts port ${port} in this zone: check the port is the service's listener port, and ask the provider whether the NLB has a healthy target in this zone (cross-zone load balancing is off by default).`
  if (code === 'ETIMEDOUT')
    return `Connects to port ${port} go unanswered: the endpoint's security group must allow inbound TCP ${port} from this host, and the subnet's network ACLs must allow it and the return traffic (ephemeral ports 1024-65535).`
  if (code === 'ECONNRESET')
    return `The endpoint took the connection and the service behind it dropped it: ask the provider whether the NLB has a healthy target for port ${port} in this zone (cross-zone load balancing is off by default).`
  return `Check the route from this host to the endpoint's subnet and the security group on port ${port}.`
}

/** Why a zone may not answer, from the security-group and ACL checks, with what fixes it. */
export interface ZoneExplanation {
  explanation: string
  commands: string[]
}

export interface ReachResult {
  zone: EndpointZone
  address: string
  port: number
  ms?: number
}

/** Whether the security-group check and this zone's ACL check both passed above. */
const pathCleared = (log: CheckLog, zone: EndpointZone) =>
  log.results.some((r) => r.id === 'sg.ingress' && r.status === 'pass') &&
  !log.results.some((r) => r.id === 'sg.egress' && r.status !== 'pass') &&
  log.results.some((r) => r.id === 'nacl.rules' && r.zone === zone.azName && r.status === 'pass')

/** `reach <zone>`: a TCP connect to every zone's ENI, in parallel. Returns the zones that answered. */
export async function checkReach(
  log: CheckLog,
  endpoint: Endpoint,
  port: number,
  timeoutMs: number,
  progress: Progress,
  explain: (zone: EndpointZone) => ZoneExplanation | undefined = () => undefined,
): Promise<ReachResult[]> {
  progress.update(`connecting to ${endpoint.zones.length} zones on port ${port}`)
  const started = performance.now()
  const outcomes = await Promise.all(
    endpoint.zones.map(async (zone) => {
      const address = zone.addresses[0]
      const dialled = zonePort(zone, port)
      if (address === undefined) return { zone, address: '', port: dialled, outcome: undefined }
      const outcome = await tcpProbe(address, dialled, timeoutMs)
      if (outcome.ok) outcome.socket.destroy()
      return { zone, address, port: dialled, outcome }
    }),
  )
  progress.clear()
  const reached: ReachResult[] = []
  for (const { zone, address, port: dialled, outcome } of outcomes) {
    const base = { id: 'zone.reach', title: 'reach', zone: zone.azName }
    const where = `${address}:${dialled}${dialled !== port ? ` (port ${port} mapped)` : ''}`
    if (outcome === undefined) {
      log.add({ ...base, status: 'skip', seen: 'no address known for this zone' }, started)
    } else if (outcome.ok) {
      reached.push({ zone, address, port: dialled, ms: outcome.ms })
      log.add(
        { ...base, status: 'pass', seen: `${where} connected in ${outcome.ms.toFixed(1)} ms` },
        started,
      )
    } else {
      const what =
        outcome.code === 'ECONNREFUSED'
          ? 'refused'
          : outcome.code === 'ETIMEDOUT'
            ? `no answer in ${timeoutMs} ms`
            : outcome.code === 'ECONNRESET'
              ? 'reset by the service'
              : outcome.code
      // A rule found above that drops this zone's traffic is the likely cause: say so first.
      const explained = explain(zone)
      log.add(
        {
          ...base,
          status: 'fail',
          seen: `${where} ${what}`,
          fix:
            explained === undefined
              ? reachFix(outcome.code, port, pathCleared(log, zone))
              : `Explained by ${explained.explanation}.`,
          ...(explained === undefined ? {} : { commands: explained.commands }),
        },
        started,
      )
    }
  }
  return reached
}

/** What to do about a handshake that failed over a TCP connection that worked. */
function tlsFix(code: string, starttls: StartTls | undefined): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return "Pass --servername with a name on the certificate: the service's own name (for RDS Proxy the proxy endpoint name), never the vpce- name you dial. Clients must verify against that name too."
  if (code === 'ERR_NO_TLS')
    return 'The service does not offer TLS on this port: check the port, or drop --servername.'
  // TCP connected, so security groups and ACLs are not the cause: never send the user there.
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT')
    return starttls === 'postgres'
      ? "TCP connected, so the port is open: the server did not answer PostgreSQL's SSLRequest, so it is not PostgreSQL on this port (pass --starttls none for a TLS port) or it hangs (ask the provider whether the NLB's target in this zone is healthy)."
      : "TCP connected, so the port is open: the service does not speak TLS there (a plaintext server: check the port, or drop --servername), PostgreSQL needs --starttls postgres, or the service hangs (ask the provider whether the NLB's target in this zone is healthy)."
  if (/CERT|UNABLE_TO|SELF_SIGNED/.test(code))
    return 'The certificate does not chain to a trusted CA: pass --ca with the CA bundle (the lab prints its ca.pem; RDS Proxy chains to Amazon Trust Services, already trusted by Node).'
  return 'TCP connected but the handshake did not complete: check that the port speaks TLS (PostgreSQL needs --starttls postgres) and that the NLB listener passes TLS through (TCP) or holds a certificate for --servername.'
}

/** `tls`: a handshake in every reachable zone, the certificate checked against --servername. */
export async function checkTls(
  log: CheckLog,
  reached: ReachResult[],
  servername: string,
  ca: string | undefined,
  starttls: StartTls | undefined,
  timeoutMs: number,
  progress: Progress,
): Promise<void> {
  const started = performance.now()
  const base = { id: 'tls.certificate', title: 'tls' }
  if (reached.length === 0) {
    log.add({ ...base, status: 'skip', seen: 'no zone answered on the port' }, started)
    return
  }
  progress.update(`TLS handshakes with ${servername}`)
  const outcomes = await Promise.all(
    reached.map(async (zone) => {
      const tcp = await tcpProbe(zone.address, zone.port, timeoutMs)
      if (!tcp.ok)
        return {
          zone,
          outcome: {
            ok: false as const,
            code: tcp.code,
            message: `reconnect failed: ${tcp.code}`,
            reconnect: true,
          },
        }
      const outcome = await tlsProbe(tcp.socket, servername, ca, starttls, timeoutMs)
      return { zone, outcome: outcome.ok ? outcome : { ...outcome, reconnect: false } }
    }),
  )
  progress.clear()
  const failed = outcomes.find((o) => !o.outcome.ok)
  if (failed !== undefined && !failed.outcome.ok) {
    const { code, message, names } = failed.outcome
    const carried = names && names.length > 0 ? `; the certificate names ${names.join(', ')}` : ''
    const fix = failed.outcome.reconnect ? reachFix(code, failed.zone.port) : tlsFix(code, starttls)
    log.add(
      {
        ...base,
        status: 'fail',
        seen: `in ${failed.zone.zone.azName}: ${message}${carried}`,
        fix,
      },
      started,
    )
    return
  }
  const first = outcomes[0]!.outcome
  if (first.ok)
    log.add(
      {
        ...base,
        status: 'pass',
        seen: `${first.protocol} in ${outcomes.length} zone${outcomes.length === 1 ? '' : 's'}, certificate for ${servername} (${first.names.join(', ')}) from ${first.issuer}, valid until ${first.validTo}`,
      },
      started,
    )
}

/** `locality`: this host's zone and the zone the connector dials first. */
export async function checkLocality(
  log: CheckLog,
  endpoint: Endpoint,
  reached: ReachResult[] | undefined,
  env: Record<string, string | undefined>,
  progress: Progress,
): Promise<void> {
  const started = performance.now()
  const base = { id: 'zone.locality', title: 'locality' }
  progress.update("finding this host's zone")
  const locality = await detectLocality({ env, timeoutMs: 1000 })
  progress.clear()
  const own = findOwnZone(endpoint.zones, locality)
  const measured = new Map(reached?.map((r) => [r.zone, r.ms]))
  // The connector's own ranking: own zone first, then by measured connect time.
  const usable =
    reached === undefined ? endpoint.zones : endpoint.zones.filter((z) => measured.has(z))
  const first = orderZones(
    usable,
    own !== undefined && usable.includes(own) ? own : undefined,
    (z) => measured.get(z),
  )[0]
  const firstText =
    first === undefined
      ? 'no zone (none answered)'
      : `${first.azName}${first.azId ? ` (${first.azId})` : ''}`
  const where = locality.azId ?? locality.azName
  if (where === undefined) {
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `this host's zone is unknown (no EC2, ECS or Lambda metadata); the connector would use ${firstText} first, by connect time`,
        fix: 'On EC2 check IMDSv2 is reachable (containers need a hop limit of 2); elsewhere set PRIVATELINK_AZ_ID to the zone ID you run in.',
      },
      started,
    )
    return
  }
  const hereText = `${locality.azName ?? ''}${locality.azName && locality.azId ? ' ' : ''}${locality.azId ? `(${locality.azId})` : ''} from ${locality.source}`
  if (own === undefined) {
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `this host runs in ${hereText}, where the endpoint has no interface; the connector would use ${firstText} first`,
        fix: 'Every connection crosses zones (latency, inter-AZ data charges): add a subnet in this zone to the endpoint (aws ec2 modify-vpc-endpoint --add-subnet-ids).',
      },
      started,
    )
    return
  }
  if (first !== own) {
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `this host runs in ${hereText}, but that zone did not answer; the connector would use ${firstText} first`,
        fix: 'See the reach line for this zone.',
      },
      started,
    )
    return
  }
  log.add(
    {
      ...base,
      status: 'pass',
      seen: `this host runs in ${hereText}; the connector uses ${firstText} first`,
    },
    started,
  )
}
