import type { IncomingMessage, ServerResponse } from 'node:http'
import { invalidOption } from '@privatelink/core'
import { DynamoDbTables, type LabTableKeys } from './dynamodb-api.js'
import { readBody } from './http-server.js'
import { newRequestId } from './identifiers.js'
import type { LabFront, LabFrontContext } from './lab.js'
import { groupQuery, parseRawQuery } from './query-protocol.js'
import { startFrontTls } from './s3-tls-server.js'
import { type JsonResponse, jsonError, secretsManagerRefusal } from './secrets-manager-api.js'
import { verifySigV4 } from './sigv4-verifier.js'

export type { LabTableKeys } from './dynamodb-api.js'

/** Options of `dynamoDbFront`; every one optional. */
export interface DynamoDbFrontOptions {
  /** The front's name, for a lab service's `target: { front }`. @default 'dynamodb' */
  name?: string
  /** Tables present from the start: name -> key schema. @default {} */
  tables?: Record<string, LabTableKeys>
}

/** One request the front answered. */
export interface DynamoDbRequest {
  /** From `X-Amz-Target: DynamoDB_20120810.<operation>`. */
  operation: string
  /** The Host header: which of DynamoDB's names the SDK called. */
  host: string
  /** The TLS name (SNI) the client presented and verified the certificate for. */
  servername: string
  /** The HTTP status answered. */
  status: number
  /** The error's type, for refusals. */
  error?: string
  /** The verified caller's ARN. */
  principal?: string
}

/** The DynamoDB front: a lab front, plus the tables and requests tests read. */
export interface DynamoDbFront extends LabFront {
  /** Every request answered, oldest first. */
  readonly requests: readonly DynamoDbRequest[]
  /** The names the front's certificate carries (once started): what AWS's endpoint presents. */
  readonly certificateNames: readonly string[]
  /** Adds a table (no-op when it exists). */
  defineTable(name: string, keys: LabTableKeys): void
}

const TARGET = 'DynamoDB_20120810.'
const MAX_REQUESTS = 10_000

/**
 * The names DynamoDB's interface endpoint presents and answers. It has no private DNS: AWS's
 * guide has clients call the endpoint's own `vpce-...dynamodb.<region>.vpce.amazonaws.com`
 * names, and the certificate carries those (regional, zonal, and `*.` of the regional name as
 * the endpoint's DNS entry is listed). The service's public names (`dynamodb.<region>...`,
 * `*.ddb.<region>...`) are on it only when the endpoint has a private DNS name: a client that
 * presents them to an endpoint without one fails its TLS check here, as a test should.
 */
export function dynamoDbCertificateNames(context: LabFrontContext): string[] {
  const { regional, zonal, privateDnsName } = context.endpointNames
  const names = [regional, `*.${regional}`, ...zonal]
  if (privateDnsName === undefined && context.gatewayService !== 'dynamodb') return names
  const domain = context.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return [...names, `dynamodb.${context.region}.${domain}`, `*.ddb.${context.region}.${domain}`]
}

/** The account in an account-based name (`<account>.ddb.<region>...`), if the host is one. */
const accountOfHost = (host: string) => /^(\d{12})\.ddb\./.exec(host)?.[1]

function validate(options: DynamoDbFrontOptions): void {
  if (options === null || typeof options !== 'object')
    throw invalidOption('options', 'an object', options)
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === ''))
    throw invalidOption('name', 'a non-empty string', options.name)
  if (
    options.tables !== undefined &&
    (options.tables === null || typeof options.tables !== 'object')
  )
    throw invalidOption(
      'tables',
      'an object of table name -> { hashKey, rangeKey? }',
      options.tables,
    )
}

/**
 * A DynamoDB API for the lab (JSON 1.0: `X-Amz-Target: DynamoDB_20120810.<operation>`):
 * ListTables, GetItem, PutItem and Query over in-memory tables, every request SigV4-verified by
 * the lab's own verifier for service `dynamodb` in the lab's service region. Behind a lab
 * service it is a DynamoDB interface endpoint, with the certificate that endpoint presents
 * (`dynamoDbCertificateNames`). A call to an account-based name of another account than the
 * caller's is refused.
 */
export function dynamoDbFront(options: DynamoDbFrontOptions = {}): DynamoDbFront {
  validate(options)
  const name = options.name ?? 'dynamodb'
  const tables = new DynamoDbTables()
  for (const [table, keys] of Object.entries(options.tables ?? {})) tables.define(table, keys)
  const requests: DynamoDbRequest[] = []
  let certificateNames: string[] = []

  const answer = async (
    context: LabFrontContext,
    request: IncomingMessage,
  ): Promise<{ result: JsonResponse; operation: string; principal?: string }> => {
    const body = await readBody(request)
    const target = request.headers['x-amz-target']
    const operation =
      typeof target === 'string' && target.startsWith(TARGET) ? target.slice(TARGET.length) : ''
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
      { region: context.region, service: 'dynamodb', clock: context.clock },
    )
    if (!verified.ok)
      return {
        result: secretsManagerRefusal(verified, request.headers.authorization !== undefined),
        operation,
      }
    const principal = verified.principal.arn
    const account = accountOfHost(String(request.headers.host ?? ''))
    if (account !== undefined && account !== verified.principal.account)
      return {
        result: jsonError(
          'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
          `The account-based endpoint names account ${account}, not the caller's (${verified.principal.account}).`,
        ),
        operation,
        principal,
      }
    let input: unknown
    try {
      input = body === '' ? {} : JSON.parse(body)
    } catch {
      input = undefined
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      return {
        result: jsonError(
          'com.amazonaws.dynamodb.v20120810#SerializationException',
          'The request body is not a JSON object.',
        ),
        operation,
        principal,
      }
    return {
      result: tables.handle(operation, input as Record<string, unknown>),
      operation,
      principal,
    }
  }

  return {
    name,
    requests,
    get certificateNames() {
      return certificateNames
    },
    defineTable: (table, keys) => tables.define(table, keys),
    async start(context: LabFrontContext) {
      certificateNames = dynamoDbCertificateNames(context)
      const certificate = await context.ca.issue(certificateNames)
      const serve = async (
        request: IncomingMessage,
        response: ServerResponse,
        servername: string,
      ) => {
        // The lab's time on every answer: the SDKs correct their clock skew from it.
        response.setHeader('date', new Date(context.clock()).toUTCString())
        const { result, operation, principal } = await answer(context, request)
        requests.push({
          operation,
          host: String(request.headers.host ?? ''),
          servername,
          status: result.status,
          ...(result.type === undefined ? {} : { error: result.type }),
          ...(principal === undefined ? {} : { principal }),
        })
        if (requests.length > MAX_REQUESTS) requests.shift()
        response.writeHead(result.status, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': newRequestId(),
        })
        response.end(result.body)
      }
      const tls = await startFrontTls(certificate, serve)
      return { host: '127.0.0.1', port: tls.port, close: () => tls.close() }
    },
  }
}
