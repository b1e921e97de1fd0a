import type { CredentialsStore } from './credentials-store.js'
import { type ApiResponse, ec2ErrorXml, handleEc2 } from './ec2-api.js'
import type { Ec2Inventory } from './ec2-inventory.js'
import { registerInventory } from './ec2-network.js'
import { type LabHttpServer, readBody, startHttpServer } from './http-server.js'
import { newRequestId } from './identifiers.js'
import { groupQuery, parseForm, parseRawQuery, type QueryParams } from './query-protocol.js'
import { handleRoute53, ROUTE53_PREFIX, route53ErrorXml } from './route53-api.js'
import { type VerifyFailureDetail, type VerifyResult, verifySigV4 } from './sigv4-verifier.js'
import { handleSts, type LabRole, stsErrorXml } from './sts-api.js'

export interface AwsServerState {
  /** The region the APIs live in: a request signed for another region is refused. */
  region: string
  /** Lab clock: the SigV4 skew window and every response's `Date` header. */
  clock: () => number
  inventory: Ec2Inventory
  roles: LabRole[]
  store: CredentialsStore
  /** Every request the server answered: action, service and status (tests count calls). */
  log: { service: string; action: string; status: number }[]
}

/** The API versions the Query protocols carry: the version, not the signature, names the service. */
const STS_VERSION = '2011-06-15'

type Refusal = Extract<VerifyResult, { ok: false }>

const EC2_AUTH_FAILURE = 'AWS was not able to validate the provided access credentials'

/**
 * EC2's answers to a refused signature: a date outside the window and expired temporary
 * credentials are `RequestExpired` (400, "Request has expired."); everything else is
 * `AuthFailure` (401).
 */
function ec2Refusal(refusal: Refusal, requestId: string): ApiResponse {
  const expired: VerifyFailureDetail[] = [
    'signature-expired',
    'signature-not-yet-current',
    'presigned-expired',
    'credentials-expired',
  ]
  if (expired.includes(refusal.detail))
    return { status: 400, body: ec2ErrorXml('RequestExpired', 'Request has expired.', requestId) }
  const message = refusal.detail === 'signature-mismatch' ? EC2_AUTH_FAILURE : refusal.message
  return { status: 401, body: ec2ErrorXml('AuthFailure', message, requestId) }
}

const stsCodes: Record<VerifyFailureDetail, string> = {
  malformed: 'IncompleteSignature',
  'bad-expires': 'IncompleteSignature',
  'host-not-signed': 'IncompleteSignature',
  // STS words a skewed date as a signature problem: "Signature expired: ... (... - 5 min.)".
  'signature-expired': 'SignatureDoesNotMatch',
  'signature-not-yet-current': 'SignatureDoesNotMatch',
  'wrong-scope-date': 'SignatureDoesNotMatch',
  'wrong-region': 'SignatureDoesNotMatch',
  'wrong-service': 'SignatureDoesNotMatch',
  'unsigned-payload-refused': 'SignatureDoesNotMatch',
  'payload-hash-mismatch': 'SignatureDoesNotMatch',
  'signature-mismatch': 'SignatureDoesNotMatch',
  'presigned-expired': 'ExpiredToken',
  'credentials-expired': 'ExpiredToken',
  'unknown-key': 'InvalidClientTokenId',
  'session-token-mismatch': 'InvalidClientTokenId',
}

function stsRefusal(refusal: Refusal, signed: boolean, requestId: string): ApiResponse {
  if (!signed)
    return {
      status: 403,
      body: stsErrorXml(
        'MissingAuthenticationToken',
        'Request is missing Authentication Token',
        requestId,
      ),
    }
  const code = stsCodes[refusal.detail]
  return {
    status: code === 'IncompleteSignature' ? 400 : 403,
    body: stsErrorXml(code, refusal.message, requestId),
  }
}

/** Route 53 words refusals as STS does, in its own error document; unsigned is 403 too. */
function route53Refusal(refusal: Refusal, signed: boolean, requestId: string): ApiResponse {
  if (!signed)
    return {
      status: 403,
      body: route53ErrorXml(
        'MissingAuthenticationToken',
        'Request is missing Authentication Token',
        requestId,
      ),
    }
  const code = stsCodes[refusal.detail]
  return {
    status: code === 'IncompleteSignature' ? 400 : 403,
    body: route53ErrorXml(code, refusal.message, requestId),
  }
}

/** Query-string parameters first, then the form body's: EC2 and STS take either. */
function mergeParams(query: readonly [string, string][], body: QueryParams): QueryParams {
  const params: QueryParams = new Map(query)
  for (const [name, value] of body) params.set(name, value)
  return params
}

/**
 * One loopback endpoint for the EC2 (EC2 Query) and STS (AWS Query) APIs, told apart by the API
 * version the request names; the signature must then be scoped to that service and the lab's
 * region, and dated within 5 minutes of the lab clock.
 */
export function startAwsServer(state: AwsServerState): Promise<LabHttpServer> {
  registerInventory(state.store, state.inventory)
  return startHttpServer(async (request, response) => {
    // The lab's time, on every answer: the AWS SDKs correct their clock skew from it.
    response.setHeader('date', new Date(state.clock()).toUTCString())
    const body = await readBody(request)
    const target = request.url ?? '/'
    const requestId = newRequestId()
    const query = parseRawQuery(target)
    const send = (service: string, action: string, result: ApiResponse) => {
      state.log.push({ service, action, status: result.status })
      response.writeHead(result.status, {
        'content-type': 'text/xml;charset=UTF-8',
        'x-amzn-requestid': requestId,
      })
      response.end(result.body)
    }
    if (query === undefined) {
      send('ec2', '', {
        status: 400,
        body: ec2ErrorXml(
          'MalformedQueryString',
          'The query string contains a syntax error.',
          requestId,
        ),
      })
      return
    }
    const queryStart = target.indexOf('?')
    const path = queryStart < 0 ? target : target.slice(0, queryStart)
    if (path.startsWith(ROUTE53_PREFIX)) {
      // Route 53 is global: AWS signs it for us-east-1. A client given the lab's endpoint signs
      // for its configured region instead (the SDK and the CLI both do), so either is accepted.
      const signed = {
        method: request.method ?? 'GET',
        path,
        query: groupQuery(query),
        headers: request.headers,
        body,
      }
      let verified = await verifySigV4(signed, state.store, {
        region: 'us-east-1',
        service: 'route53',
        clock: state.clock,
      })
      if (!verified.ok && verified.detail === 'wrong-region' && state.region !== 'us-east-1')
        verified = await verifySigV4(signed, state.store, {
          region: state.region,
          service: 'route53',
          clock: state.clock,
        })
      if (!verified.ok) {
        send(
          'route53',
          '',
          route53Refusal(verified, request.headers.authorization !== undefined, requestId),
        )
        return
      }
      const answer = handleRoute53(state.inventory, request.method ?? 'GET', target, requestId)
      send('route53', answer.action, answer)
      return
    }
    const params = mergeParams(query, parseForm(body))
    const service = params.get('Version') === STS_VERSION ? 'sts' : 'ec2'
    const action = params.get('Action') ?? ''
    const verified = await verifySigV4(
      {
        method: request.method ?? 'POST',
        path,
        query: groupQuery(query),
        headers: request.headers,
        body,
      },
      state.store,
      { region: state.region, service, clock: state.clock },
    )
    if (!verified.ok) {
      const signed = request.headers.authorization !== undefined
      send(
        service,
        action,
        service === 'sts'
          ? stsRefusal(verified, signed, requestId)
          : ec2Refusal(verified, requestId),
      )
      return
    }
    send(
      service,
      action,
      service === 'sts'
        ? handleSts(
            state.roles,
            state.store,
            state.store.get(verified.principal.accessKeyId)!,
            params,
            requestId,
          )
        : handleEc2(state.inventory, params, requestId),
    )
  })
}
