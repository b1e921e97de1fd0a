import { PrivateLinkError } from '@privatelink/core'

/**
 * Codes the SDK must see as transient. A connection lost under a written call: its zone was ejected, or the socket died, and the
 * dispatcher may not replay it (the SDK's JSON and Query protocols are POSTs). The SDK's own
 * handlers raise this case as a socket error (ECONNRESET, or `RequestTimeout` from
 * @smithy/undici-http-handler), which its retry strategy retries for every operation; ours must
 * reach it as transient too, or a zone loss fails every call that was in flight.
 */
const LOST = new Set([
  'ERR_CONNECTION_LOST',
  'ERR_ZONE_EJECTED',
  // Every zone refused, reset or timed out the connect (or its TLS handshake): a brief outage of
  // the whole endpoint, which the SDK's own handler meets as ECONNREFUSED / ECONNRESET and retries.
  'ERR_ENDPOINT_UNREACHABLE',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
])

/**
 * Marks a lost connection with smithy's `$retryable` trait, which the SDK's retry classification
 * (`isTransientError`) counts as transient. The error keeps its class and stable `code`; the
 * marker is not enumerable, so logs and JSON are unchanged. Retrying is then the SDK's decision,
 * under the client's own `maxAttempts`, backoff and retry quota, not a second policy of ours.
 */
export function markTransient(error: unknown): void {
  if (!PrivateLinkError.isInstance(error) || !LOST.has(error.code)) return
  if (Object.hasOwn(error, '$retryable')) return
  Object.defineProperty(error, '$retryable', {
    value: { throttling: false },
    enumerable: false,
    configurable: true,
    writable: true,
  })
}
