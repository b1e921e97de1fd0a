import type { CredentialsStore } from './credentials-store.js'
import { type ApiResponse, ec2ErrorXml, handleEc2 } from './ec2-api.js'
import type { Ec2Inventory } from './ec2-inventory.js'
import { type LabHttpServer, readBody, startHttpServer } from './http-server.js'
import { newRequestId } from './identifiers.js'
import { parseForm } from './query-protocol.js'
import { verifySigV4 } from './sigv4-verifier.js'
import { handleSts, type LabRole, stsErrorXml } from './sts-api.js'

export interface AwsServerState {
  inventory: Ec2Inventory
  roles: LabRole[]
  store: CredentialsStore
  /** Every request the server answered: action, service and status (tests count calls). */
  log: { service: string; action: string; status: number }[]
}

const ec2Codes = {
  missing: 'AuthFailure',
  'unknown-key': 'AuthFailure',
  'bad-token': 'AuthFailure',
  mismatch: 'AuthFailure',
  expired: 'RequestExpired',
}
const stsCodes = {
  missing: 'MissingAuthenticationToken',
  'unknown-key': 'InvalidClientTokenId',
  'bad-token': 'InvalidClientTokenId',
  mismatch: 'SignatureDoesNotMatch',
  expired: 'ExpiredToken',
}

/** One loopback endpoint for the EC2 (EC2 Query) and STS (AWS Query) APIs, told apart by the signing scope. */
export function startAwsServer(state: AwsServerState): Promise<LabHttpServer> {
  return startHttpServer(async (request, response) => {
    const body = await readBody(request)
    const url = new URL(request.url ?? '/', 'http://lab')
    const query: Record<string, string> = Object.fromEntries(url.searchParams)
    const params = parseForm(body)
    const requestId = newRequestId()
    const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(
      String(request.headers.authorization ?? ''),
    )
    const service = scope?.[1] ?? (params.get('Version') === '2011-06-15' ? 'sts' : 'ec2')
    const verified = await verifySigV4(
      {
        method: request.method ?? 'POST',
        path: url.pathname,
        query,
        headers: request.headers,
        body,
      },
      state.store,
    )
    let result: ApiResponse
    if (!verified.ok) {
      result =
        service === 'sts'
          ? {
              status: 403,
              body: stsErrorXml(stsCodes[verified.reason], verified.message, requestId),
            }
          : {
              status: verified.reason === 'expired' ? 400 : 401,
              body: ec2ErrorXml(
                ec2Codes[verified.reason],
                verified.reason === 'mismatch'
                  ? 'AWS was not able to validate the provided access credentials'
                  : verified.message,
                requestId,
              ),
            }
    } else if (service === 'sts') {
      result = handleSts(
        state.roles,
        state.store,
        state.store.get(verified.principal.accessKeyId)!,
        params,
        requestId,
      )
    } else if (service === 'ec2') {
      result = handleEc2(state.inventory, params, requestId)
    } else {
      result = {
        status: 400,
        body: ec2ErrorXml('UnknownService', `The lab does not emulate ${service}`, requestId),
      }
    }
    state.log.push({ service, action: params.get('Action') ?? '', status: result.status })
    response.writeHead(result.status, {
      'content-type': 'text/xml;charset=UTF-8',
      'x-amzn-requestid': requestId,
    })
    response.end(result.body)
  })
}
