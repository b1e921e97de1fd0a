import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { invalidOption } from '@privatelink/base'
import { CHANNEL_MAPPINGS, type ChannelGroup, type Measurement } from './channel-mappings.js'

/** Every group, in the order the README lists them. */
export const CHANNEL_GROUPS: readonly ChannelGroup[] = ['connector', 'dns', 'pg', 'mysql', 'redis']

/** The `include` option, checked: the groups to subscribe to. @default every group */
export function groupsOf(include: unknown): ReadonlySet<ChannelGroup> {
  if (include === undefined) return new Set(CHANNEL_GROUPS)
  const expected = `an array of ${CHANNEL_GROUPS.map((group) => `'${group}'`).join(', ')}`
  if (!Array.isArray(include)) throw invalidOption('include', expected, include)
  for (const group of include)
    if (!CHANNEL_GROUPS.includes(group)) throw invalidOption('include', expected, include)
  return new Set(include as ChannelGroup[])
}

/**
 * Subscribes to the channels of `groups` by name (node:diagnostics_channel), so no package that
 * publishes them is loaded here: a user of pg alone never loads ioredis or undici. Returns the
 * unsubscribe. A recorder that throws is not the publisher's problem: the error is dropped after
 * a process warning, once.
 */
export function subscribeChannels(
  groups: ReadonlySet<ChannelGroup>,
  record: (measurement: Measurement) => void,
): () => void {
  let warned = false
  const subscriptions = CHANNEL_MAPPINGS.filter((mapping) => groups.has(mapping.group)).map(
    (mapping) => {
      const onMessage = (message: unknown) => {
        if (typeof message !== 'object' || message === null) return
        try {
          for (const measurement of mapping.measure(message as Record<string, unknown>))
            record(measurement)
        } catch (error) {
          if (warned) return
          warned = true
          process.emitWarning(
            `privatelink/metrics: recording ${mapping.channel} failed (${String((error as Error)?.message ?? error)}); later failures are not reported`,
            { code: 'PRIVATELINK_METRICS_RECORD_FAILED' },
          )
        }
      }
      subscribe(mapping.channel, onMessage)
      return () => unsubscribe(mapping.channel, onMessage)
    },
  )
  let stopped = false
  return () => {
    if (stopped) return
    stopped = true
    for (const stop of subscriptions) stop()
  }
}
