import type { EndpointSource } from './endpoint-source.js'
import type { EndpointStreamContext, StreamTls } from './endpoint-stream.js'
import type { ValidatedOptions } from './options.js'
import { rdsCaBundle } from './rds-ca-bundle.js'

/**
 * What a plan's streams dial and verify: the source's connector, TLS against the proxy's name
 * (whatever address is dialled) with the chosen CA, and the handshake deadline.
 */
export function planStreamContext(
  options: ValidatedOptions,
  source: EndpointSource,
  tls: StreamTls = streamTlsOf(options),
): EndpointStreamContext {
  const streamContext: EndpointStreamContext = {
    connector: () => source.connector(),
    tls,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
  }
  if (options.ca === 'rds') {
    const connector = streamContext.connector
    streamContext.connector = async () => {
      tls.ca ??= await rdsCaBundle()
      return await connector()
    }
  }
  return streamContext
}

/** TLS against the proxy's name with the chosen CA ('rds': the bundle, loaded at first connect). */
export function streamTlsOf(
  options: Pick<ValidatedOptions, 'proxyHost' | 'insecure' | 'ca'>,
): StreamTls {
  const { ca } = options
  return {
    servername: options.proxyHost,
    insecure: options.insecure,
    ca: ca === 'rds' ? undefined : ca,
    caSource: ca === undefined ? 'roots' : ca === 'rds' ? 'rds' : 'custom',
  }
}
