import { PrivateLinkError } from '@privatelink/core'

export function originNotPinnedError(origin: string, pinned: readonly string[]): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_ORIGIN_NOT_PINNED',
    `${origin} is not pinned to the endpoint; refusing to send it elsewhere`,
    {
      hint: `Requests through this dispatcher go only to ${pinned.join(', ')}. Add the host to 'origins', or set passthrough: true to send other hosts through a plain undici Agent (they then leave over the public path). With fetch, a redirect to another host ends here too.`,
      details: { origin, pinned: [...pinned] },
    },
  )
}

/** What the connections of an ejected zone are destroyed with; idempotent requests on them are retried elsewhere. */
export function zoneEjectedError(zone: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_ZONE_EJECTED',
    `the connection's zone ${zone} was ejected (failed health checks or connects); the connection was closed`,
    {
      hint: 'The zone stopped answering. Idempotent requests are retried on another zone; check the service behind the NLB in that zone.',
      details: { zone },
    },
  )
}

export interface LostRequest {
  method: string
  target: string
  retries: number
  idempotent: boolean
}

/** A request that was written and then lost its connection: the caller cannot know whether it ran. */
export function connectionLostError(request: LostRequest, cause: Error): PrivateLinkError {
  const { method, target, retries, idempotent } = request
  const code = String((cause as { code?: unknown }).code ?? cause.name)
  return new PrivateLinkError(
    'ERR_CONNECTION_LOST',
    idempotent
      ? `${method} ${target} lost its connection after it was sent, ${retries} retries used (${code})`
      : `${method} ${target} lost its connection after it was sent and was not retried (${code})`,
    {
      hint: idempotent
        ? 'Every zone tried failed mid-request: check the service behind the NLB, retry.maxRetries and retry.budget.'
        : 'The server may have processed the request. Non-idempotent methods (and stream bodies) are never replayed: retry yourself with an idempotency key if the API has one, or list the method in retry.methods only if repeating it is safe.',
      details: { method, target, cause: code, retries },
      cause,
    },
  )
}
