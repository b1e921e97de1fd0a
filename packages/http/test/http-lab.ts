import {
  createEndpointAgent,
  createEndpointDispatcher,
  type EndpointAgentOptions,
  type EndpointDispatcherOptions,
} from '@privatelink/http'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { startHttpsTarget, type Target } from './https-target.js'

export const API = 'api.saas.example.com'

export interface HttpLab {
  lab: Lab
  target: Target
  caPem: string
  /** The lab clock (ejection windows, Retry-After dates): move it by hand. */
  clock: { now: number }
  /** Default options, plus the lab's CA, the own zone usw2-az1 and the lab clock. */
  dispatcherFor(
    options?: Partial<EndpointDispatcherOptions>,
  ): ReturnType<typeof createEndpointDispatcher>
  /** An https.Agent with the same defaults (lab CA, own zone usw2-az1, lab clock). */
  agentFor(options?: Partial<EndpointAgentOptions>): ReturnType<typeof createEndpointAgent>
  /** TCP connections the zone's listener accepted for the service. */
  accepted(azName: string): number
  /** Connections open through the zone's listener now. */
  active(azName: string): number
  restoreAll(): Promise<void>
  close(): Promise<void>
}

/** A lab endpoint in front of an HTTPS target that answers with what it saw. */
export async function startHttpLab(): Promise<HttpLab> {
  const ca = await createTestCa()
  const target = await startHttpsTarget(ca, [API])
  const clock = { now: 5_000_000 }
  const lab = await startLab({
    clock: () => clock.now,
    privateDnsName: API,
    services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: target.port } }],
  })
  const stats = (azName: string) => lab.zone(azName).stats()['api']!
  return {
    lab,
    target,
    caPem: ca.certificatePem,
    clock,
    dispatcherFor: (options = {}) =>
      createEndpointDispatcher({
        endpoint: lab.endpoint,
        locality: { source: 'options', azId: 'usw2-az1' },
        ca: ca.certificatePem,
        clock: () => clock.now,
        ...options,
      }),
    agentFor: ({ connectorOptions, ...options } = {}) =>
      createEndpointAgent({
        endpoint: lab.endpoint,
        ca: ca.certificatePem,
        connectorOptions: {
          locality: { source: 'options', azId: 'usw2-az1' },
          clock: () => clock.now,
          ...connectorOptions,
        },
        ...options,
      }),
    accepted: (azName) => stats(azName).accepted,
    active: (azName) => stats(azName).active,
    restoreAll: async () => {
      target.onBody = undefined
      target.dropNext = 0
      for (const zone of lab.endpoint.zones) await lab.zone(zone.azName).restore()
    },
    close: async () => {
      await lab.close()
      await target.close()
    },
  }
}

/** Backoff timers that fire at once and remember what they were asked to wait. */
export function recordingTimers(): {
  delays: number[]
  timers: { setTimeout(callback: () => void, ms: number): unknown; clearTimeout(): void }
} {
  const delays: number[] = []
  return {
    delays,
    timers: {
      setTimeout: (callback, ms) => {
        delays.push(ms)
        queueMicrotask(callback)
        return delays.length
      },
      clearTimeout: () => {},
    },
  }
}
