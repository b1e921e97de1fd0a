import { PrivateLinkError } from '@privatelink/core'

export function originNotPinnedError(origin: string, pinned: readonly string[]): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_ORIGIN_NOT_PINNED',
    `${origin} is not pinned to the endpoint; refusing to send it elsewhere`,
    {
      hint: `Requests through this dispatcher go only to ${pinned.join(', ')}. Add the host to 'origins', or set passthrough: true to send other hosts through a plain undici Agent (they then leave over the public path).`,
      details: { origin, pinned: [...pinned] },
    },
  )
}
