import type { Endpoint, Locality } from '@privatelink/core'
import { createEndpointDispatcher } from '@privatelink/http'
import { request } from 'undici'

export interface OrdersClientOptions {
  /** The interface endpoint for the provider's endpoint service (discoverEndpoint / endpointFromEnv). */
  endpoint: Endpoint
  /** @default `https://${endpoint.privateDnsName}` (the name the provider's certificate carries) */
  baseUrl?: string
  /** @default detected by the connector */
  locality?: Locality
  /** Extra CA certificates, for a provider whose certificate is not from a public CA. */
  ca?: string
}

export interface Order {
  id: string
  [field: string]: unknown
}

/**
 * A SaaS provider's private API, called through the consumer's interface endpoint: requests go to
 * the endpoint's ENI in this zone first, the certificate is checked against the API's own name,
 * and only that name is reachable through the dispatcher (no silent public egress).
 */
export function createOrdersClient(options: OrdersClientOptions) {
  const { endpoint } = options
  const baseUrl = options.baseUrl ?? `https://${endpoint.privateDnsName}`
  const dispatcher = createEndpointDispatcher({
    endpoint,
    ...(options.locality === undefined ? {} : { locality: options.locality }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  })
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const response = await request(`${baseUrl}${path}`, {
      method,
      dispatcher,
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.body.text()
    if (response.statusCode >= 400)
      throw new Error(`${method} ${path}: HTTP ${response.statusCode} ${text.slice(0, 200)}`)
    return JSON.parse(text) as T
  }
  return {
    /** GET is idempotent: if the zone dies mid-request, the dispatcher retries it in another. */
    getOrder: (id: string) => call<Order>('GET', `/v1/orders/${encodeURIComponent(id)}`),
    /**
     * POST is not: retried only if nothing was written yet; once sent, a lost connection fails
     * with ERR_CONNECTION_LOST (send an idempotency key if the API takes one, then retry).
     */
    createOrder: (order: Record<string, unknown>) => call<Order>('POST', '/v1/orders', order),
    /** Open sockets per zone (AZ ID), e.g. for a metric. */
    connectionsPerZone: () => dispatcher.connectionsPerZone(),
    close: () => dispatcher.close(),
  }
}
