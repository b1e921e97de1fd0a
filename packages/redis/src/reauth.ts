import type { Socket } from 'node:net'
import type { Connector } from '@privatelink/core'
import type { Redis } from 'ioredis'
import { authChannel } from './diagnostics.js'
import { secretArgument } from './secret-argument.js'
import type { ElastiCacheTokenProvider } from './token-provider.js'

export interface ReauthSettings {
  user: string
  /** The token provider of the target the connection is in (each signs for its own cache and region). */
  providerFor(stream: Socket | undefined): ElastiCacheTokenProvider
  clock: () => number
  /** Re-AUTH an open connection this long after its last authentication. */
  afterMs: number
  /** How often the clock is looked at (an injected clock jumps; a timer alone would not see it). */
  checkIntervalMs: number
  connector: Connector
}

/**
 * ElastiCache drops IAM-authenticated connections 12 hours after their last AUTH. This sends a
 * fresh `AUTH user token` on the open connection before then, through ioredis' own command queue
 * so it takes its place among the replies. A refused re-AUTH is retried once with a newly signed
 * token; if that fails too the connection keeps its current authentication until the service
 * drops it, and the reconnect reports the typed error.
 */
export function keepAuthenticated(redis: Redis, settings: ReauthSettings): void {
  const { user, providerFor, clock, afterMs, checkIntervalMs, connector } = settings
  let authenticatedAt: number | undefined
  let running = false
  const streamOf = () => (redis as unknown as { stream?: Socket }).stream
  const where = () => {
    const stream = streamOf()
    const zone = stream === undefined ? undefined : connector.zoneOf(stream)
    const target = stream === undefined ? undefined : connector.targetOf(stream)
    return {
      zone: zone === undefined ? null : connector.zoneKey(zone),
      target: target?.name ?? null,
    }
  }
  const reauth = async () => {
    running = true
    try {
      const provider = providerFor(streamOf())
      let ok = false
      let code: string | undefined
      for (const fresh of [false, true]) {
        if (fresh) await provider.refresh()
        try {
          // Through ioredis' queue, so the reply takes its place; redacted in its debug log.
          await redis.auth(user, secretArgument(await provider.getToken()))
          ok = true
          break
        } catch (error) {
          code = (error as { code?: string }).code ?? (error as Error).message.split(' ')[0]
        }
      }
      if (ok) authenticatedAt = clock()
      if (authChannel.hasSubscribers)
        authChannel.publish({ user, ...where(), reauth: true, ok, ...(ok ? {} : { code }) })
    } catch (error) {
      if (authChannel.hasSubscribers)
        authChannel.publish({
          user,
          ...where(),
          reauth: true,
          ok: false,
          code: (error as { code?: string }).code ?? 'UNKNOWN',
        })
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => {
    if (running || authenticatedAt === undefined || redis.status !== 'ready') return
    if (clock() - authenticatedAt >= afterMs) void reauth()
  }, checkIntervalMs)
  timer.unref()
  // A connection handed over already open (none is today) counts from now.
  if (redis.status === 'ready') authenticatedAt = clock()
  redis.on('ready', () => {
    authenticatedAt = clock()
  })
  redis.once('end', () => clearInterval(timer))
}
