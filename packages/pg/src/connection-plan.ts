import { authRetryChannel } from './diagnostics.js'
import { type EndpointSource, endpointSource } from './endpoint-source.js'
import { EndpointStream, type EndpointStreamContext } from './endpoint-stream.js'
import { type AuthContext, connectError, isAuthFailure } from './errors.js'
import type { PrivateLinkPgOptions, ValidatedOptions } from './options.js'
import { pgOnly, readPgOptions, validateOptions } from './options.js'
import { planAuth } from './plan-auth.js'
import { planStreamContext, streamTlsOf } from './plan-stream-context.js'
import { checkHandshake } from './probe-handshake.js'
import { proxyHostRegion } from './proxy-region.js'
import type { IamTokenProvider } from './token-provider.js'

/** Everything a pool or client needs: pg's config, the endpoint, and what to do on auth failure. */
export interface ConnectionPlan {
  options: ValidatedOptions
  source: EndpointSource
  context: AuthContext
  /** pg's config: host = proxyHost, our stream, password as a function, ssl off (the stream does TLS). */
  pgConfig: Record<string, unknown>
  /** Maps a connect error to our typed errors. */
  mapError(error: unknown): unknown
  /** After an authentication failure: refresh what authenticates (token or secret). */
  onAuthFailure(error: unknown): Promise<boolean>
  tokenProvider: IamTokenProvider | undefined
  /** pg keeps the password it sent on the client (non-enumerable): put the function back. */
  scrub(client: object): void
  /** What this plan's streams dial and verify (failover pools combine the targets' plans). */
  streamContext: EndpointStreamContext
  /** The password (or token) pg sends, from this plan's provider. */
  password: () => Promise<string> | string
}

let warnedInsecure = false

/**
 * The plan for one proxy: options checked, the endpoint source with handshake health checks,
 * the auth context and password, the stream context, and pg's config wired to them.
 */
export function connectionPlan(
  given: PrivateLinkPgOptions,
  pgDefaults: Record<string, unknown>,
): ConnectionPlan {
  const input = readPgOptions(given)
  const options = validateOptions(input)
  // Health checks speak SSLRequest and TLS, so a zone whose proxy accepts TCP but no longer
  // answers is found; one check function per proxy keeps the zone health shared (see checkHandshake).
  const tls = streamTlsOf(options)
  const source = endpointSource(options.endpoint, options.port, options.profile, {
    ...options.connectorOptions,
    healthCheck: {
      ...options.connectorOptions.healthCheck,
      handshake: checkHandshake([tls], () => tls),
    },
  })
  // The proxy verifies tokens in its own region: its name says which, else the endpoint's service
  // region (a vpce name only names the consumer's region, wrong for a cross-region endpoint).
  const region = options.region ?? proxyHostRegion(options.proxyHost) ?? source.region
  const context: AuthContext = {
    proxyHost: options.proxyHost,
    port: options.port,
    user: options.user,
    auth: options.auth.kind === 'secret' ? 'secret' : options.auth.kind,
    region,
    clock: input.clock ?? Date.now,
  }
  const auth = planAuth(options, input, region)
  const { password } = auth
  warnInsecure(options.insecure)
  const streamContext = planStreamContext(options, source, tls)
  const pgConfig: Record<string, unknown> = {
    ...pgDefaults,
    ...pgOnly(input),
    host: options.proxyHost,
    port: options.port,
    user: options.user,
    password,
    ssl: false,
    stream: () => new EndpointStream(streamContext),
  }

  return {
    options,
    source,
    context,
    pgConfig,
    tokenProvider: auth.tokenProvider,
    streamContext,
    password,
    scrub(client) {
      const target = client as { password?: unknown; connectionParameters?: { password?: unknown } }
      target.password = password
      if (target.connectionParameters !== undefined) target.connectionParameters.password = password
    },
    mapError: (error) =>
      connectError(error, context, options.insecure === 'plaintext', auth.lastToken()),
    onAuthFailure: async (error) => {
      if (!isAuthFailure(error)) return false
      publishAuthRetry(error, options.user)
      return await auth.refresh()
    },
  }
}

/** Once per process: insecure TLS is a choice someone should see in the logs. */
function warnInsecure(insecure: ValidatedOptions['insecure']): void {
  if (insecure === false || warnedInsecure) return
  warnedInsecure = true
  process.emitWarning(
    insecure === 'plaintext'
      ? 'privatelink/pg: TLS is OFF (ssl.insecure: plaintext). Passwords and data cross the network in clear text.'
      : 'privatelink/pg: TLS certificate verification is OFF (ssl.insecure). Traffic can be intercepted.',
    { code: 'PRIVATELINK_INSECURE_TLS' },
  )
}

function publishAuthRetry(error: unknown, user: string): void {
  if (!authRetryChannel.hasSubscribers) return
  authRetryChannel.publish({
    code: (error as { code?: string }).code,
    sqlState:
      (error as { details?: { sqlState?: string } }).details?.sqlState ??
      (error as { code?: string }).code,
    user,
  })
}
