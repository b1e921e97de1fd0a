import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { Socket } from 'node:net'
import { invalidOption } from '@privatelink/core'
import { type LabHttpServer, readBody, startHttpServer } from './http-server.js'
import { newRequestId } from './identifiers.js'
import type { LabFront, LabFrontContext } from './lab.js'
import { groupQuery, parseRawQuery } from './query-protocol.js'
import {
  handleSecretsManager,
  type JsonResponse,
  jsonError,
  secretsManagerRefusal,
} from './secrets-manager-api.js'
import { SecretsManagerStore } from './secrets-manager-store.js'
import { verifySigV4 } from './sigv4-verifier.js'

/** Options of `secretsManagerFront`; every one optional. */
export interface SecretsManagerFrontOptions {
  /** The front's name, for a lab service's `target: { front }`. @default 'secretsmanager' */
  name?: string
  /** More names for the TLS certificate, beside `secretsmanager.<region>.amazonaws.com`. @default [] */
  hostnames?: string[]
  /** Secrets present from the start: name -> value (an object is stored as its JSON). @default {} */
  secrets?: Record<string, string | object>
}

/** One request the emulator answered. Never a secret value. */
export interface SecretsManagerRequest {
  /** From `X-Amz-Target: secretsmanager.<operation>`; '' when absent. */
  operation: string
  /** The request's SecretId (or CreateSecret's Name), when it had one. */
  secretId?: string
  /** The HTTP status answered. */
  status: number
  /** The error's `__type`, for refusals. */
  error?: string
  /** The ARN of the verified caller. */
  principal?: string
  /** `'tls'` through the lab's zones (or any TLS client), `'http'` on `endpoint`. */
  via: 'tls' | 'http'
}

/** The Secrets Manager emulator: a lab front, plus the secrets and requests tests read and write. */
export interface SecretsManagerFront extends LabFront {
  /** The service's name, `secretsmanager.<region>.amazonaws.com`: the certificate's (once started). */
  readonly hostname: string
  /** `http://127.0.0.1:<port>`: the same API in plain HTTP, for an SDK client's `endpoint` (once started). */
  readonly endpoint: string
  /** The region signatures must be scoped to: the lab's service region (once started). */
  readonly region: string
  /** Every request answered, oldest first. */
  readonly requests: readonly SecretsManagerRequest[]
  /**
   * Creates the secret, or stores a new version as AWSCURRENT (the old one becomes AWSPREVIOUS),
   * as PutSecretValue does. `readers` (principal ARNs) limits who may use it; others get
   * AccessDeniedException. @default readers: every key the lab knows
   */
  put(
    name: string,
    value: string | object,
    options?: { readers?: string[] },
  ): {
    /** The secret's ARN. */
    arn: string
    /** The new version's ID (AWSCURRENT from now on). */
    versionId: string
  }
  /** The secret's ARN (with AWS's random 6-character suffix). */
  arn(name: string): string
}

const MAX_REQUESTS = 10_000

function validate(options: SecretsManagerFrontOptions): void {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object', options)
  const { name, hostnames, secrets } = options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw invalidOption('name', 'a non-empty string', name)
  if (
    hostnames !== undefined &&
    (!Array.isArray(hostnames) || hostnames.some((h) => typeof h !== 'string' || h === ''))
  )
    throw invalidOption('hostnames', 'an array of DNS names', hostnames)
  if (secrets !== undefined && (secrets === null || typeof secrets !== 'object'))
    throw invalidOption('secrets', 'an object of secret name -> value', typeof secrets)
}

const textOf = (value: string | object) =>
  typeof value === 'string' ? value : JSON.stringify(value)

/** HTTPS on loopback with its sockets tracked, so close() leaves nothing behind. */
async function startHttpsServer(
  cert: string,
  key: string,
  handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer({ cert, key }, (request, response) => {
    handler(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
      response.end(String(error))
    })
  })
  // undici drops a connection whose Keep-Alive hint is under its 2 s threshold: a short hint
  // would make every SDK call a new TCP+TLS connection through the zones, which AWS does not.
  server.keepAliveTimeout = 30_000
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A Secrets Manager API for the lab (JSON 1.1: `X-Amz-Target: secretsmanager.<operation>`):
 * GetSecretValue, PutSecretValue, CreateSecret and DescribeSecret, every request SigV4-verified
 * by the lab's own verifier against the lab's keys, region (service `secretsmanager`) and clock.
 * As a front it serves TLS with a lab-CA certificate for `secretsmanager.<region>.amazonaws.com`,
 * so a lab service relaying to it is an interface endpoint for Secrets Manager; `endpoint` serves
 * the same API in plain HTTP for an SDK client pointed at it directly.
 */
export function secretsManagerFront(options: SecretsManagerFrontOptions = {}): SecretsManagerFront {
  validate(options)
  const name = options.name ?? 'secretsmanager'
  const extraNames = [...(options.hostnames ?? [])]
  const seeds = Object.entries(options.secrets ?? {})
  const requests: SecretsManagerRequest[] = []
  let started:
    | { store: SecretsManagerStore; region: string; hostname: string; endpoint: string }
    | undefined
  const running = (what: string) => {
    if (started === undefined)
      throw new Error(`secrets manager front '${name}': ${what} is known once the lab has started`)
    return started
  }

  const put = (
    secretName: string,
    value: string | object,
    putOptions: { readers?: string[] } = {},
  ) => {
    const { store } = running('put()')
    const stored = { string: textOf(value) }
    if (!store.has(secretName)) {
      const created = store.create({ name: secretName, value: stored, readers: putOptions.readers })
      if ('type' in created) throw new Error(`put(${secretName}): ${created.message}`)
      return { arn: created.arn, versionId: created.versionId! }
    }
    if (putOptions.readers !== undefined) store.setReaders(secretName, putOptions.readers)
    // No principal: the lab writes as itself, whoever the secret's readers are.
    const result = store.put({ secretId: secretName, principal: undefined, value: stored })
    if ('type' in result) throw new Error(`put(${secretName}): ${result.message}`)
    return { arn: result.arn, versionId: result.versionId }
  }

  return {
    name,
    get hostname() {
      return running('hostname').hostname
    },
    get endpoint() {
      return running('endpoint').endpoint
    },
    get region() {
      return running('region').region
    },
    requests,
    put,
    arn(secretName) {
      const found = running('arn()').store.describe(secretName, undefined)
      if ('type' in found)
        throw new Error(`secrets manager front '${name}': no secret ${secretName}`)
      return found.arn
    },
    async start(context: LabFrontContext) {
      const { region, clock } = context
      const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
      const hostname = `secretsmanager.${region}.${domain}`
      const store = new SecretsManagerStore(region, context.accountId, clock)

      const serve =
        (via: 'tls' | 'http') => async (request: IncomingMessage, response: ServerResponse) => {
          // The lab's time on every answer: the SDKs correct their clock skew from it.
          response.setHeader('date', new Date(clock()).toUTCString())
          const body = await readBody(request)
          const target = request.headers['x-amz-target']
          const operation =
            typeof target === 'string' && target.startsWith('secretsmanager.')
              ? target.slice('secretsmanager.'.length)
              : ''
          const url = request.url ?? '/'
          const queryStart = url.indexOf('?')
          const verified = await verifySigV4(
            {
              method: request.method ?? 'POST',
              path: queryStart < 0 ? url : url.slice(0, queryStart),
              query: groupQuery(parseRawQuery(url) ?? []),
              headers: request.headers,
              body,
            },
            context.store,
            { region, service: 'secretsmanager', clock },
          )
          let input: Record<string, unknown> = {}
          let result: JsonResponse
          if (!verified.ok) {
            result = secretsManagerRefusal(verified, request.headers.authorization !== undefined)
          } else if (request.method !== 'POST' || operation === '') {
            result = jsonError(
              'UnknownOperationException',
              'Send POST with X-Amz-Target: secretsmanager.<operation>.',
            )
          } else {
            let parsed: unknown
            try {
              parsed = body === '' ? {} : JSON.parse(body)
            } catch {
              parsed = undefined
            }
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
              result = jsonError('SerializationException', 'The request body is not a JSON object.')
            } else {
              input = parsed as Record<string, unknown>
              result = handleSecretsManager(store, operation, input, verified.principal.arn)
            }
          }
          const secretId = input['SecretId'] ?? input['Name']
          requests.push({
            operation,
            ...(typeof secretId === 'string' ? { secretId } : {}),
            status: result.status,
            ...(result.type === undefined ? {} : { error: result.type }),
            ...(verified.ok ? { principal: verified.principal.arn } : {}),
            via,
          })
          if (requests.length > MAX_REQUESTS) requests.shift()
          response.writeHead(result.status, {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-requestid': newRequestId(),
          })
          response.end(result.body)
        }

      const certificate = await context.ca.issue([hostname, ...extraNames])
      const tls = await startHttpsServer(
        certificate.certificatePem,
        certificate.privateKeyPem,
        serve('tls'),
      )
      let plain: LabHttpServer
      try {
        plain = await startHttpServer(serve('http'))
      } catch (error) {
        await tls.close()
        throw error
      }
      started = { store, region, hostname, endpoint: plain.url }
      for (const [secretName, value] of seeds) put(secretName, value)
      return {
        host: '127.0.0.1',
        port: tls.port,
        close: async () => {
          await Promise.all([tls.close(), plain.close()])
        },
      }
    },
  }
}
