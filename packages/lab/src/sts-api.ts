import type { CredentialsStore, StoredKey } from './credentials-store.js'
import type { ApiResponse } from './ec2-api.js'
import { newAccessKeyId } from './identifiers.js'
import { type QueryParams, toXml, type XmlNode } from './query-protocol.js'

/** An IAM role the lab's STS lets the lab's key assume with AssumeRole. */
export interface LabRole {
  /** The role's ARN, e.g. `arn:aws:iam::222222222222:role/name`. */
  arn: string
  /** When set, AssumeRole must pass this ExternalId (the confused-deputy guard of cross-account roles). */
  externalId?: string
  /** Longest DurationSeconds AssumeRole accepts (900 is the least). @default 3600 */
  maxSessionDuration?: number
}

export function stsErrorXml(
  code: string,
  message: string,
  requestId: string,
  type = 'Sender',
): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">${toXml({ Error: { Type: type, Code: code, Message: message }, RequestId: requestId })}</ErrorResponse>`
}

function respond(action: string, requestId: string, result: XmlNode): ApiResponse {
  return {
    status: 200,
    body: `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">${toXml({ [`${action}Result`]: result, ResponseMetadata: { RequestId: requestId } })}</${action}Response>`,
  }
}

const fail = (code: string, message: string, requestId: string, status = 403): ApiResponse => ({
  status,
  body: stsErrorXml(code, message, requestId),
})

export function handleSts(
  roles: LabRole[],
  store: CredentialsStore,
  caller: StoredKey,
  params: QueryParams,
  requestId: string,
): ApiResponse {
  const action = params.get('Action') ?? ''
  if (action === 'GetCallerIdentity') {
    return respond(action, requestId, {
      Arn: caller.arn,
      UserId: caller.userId,
      Account: caller.account,
    })
  }
  if (action !== 'AssumeRole')
    return fail('InvalidAction', `Could not find operation ${action}`, requestId, 400)
  const roleArn = params.get('RoleArn') ?? ''
  const sessionName = params.get('RoleSessionName') ?? ''
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return fail(
      'ValidationError',
      'RoleSessionName must be 2-64 characters of [\\w+=,.@-]',
      requestId,
      400,
    )
  }
  const role = roles.find((r) => r.arn === roleArn)
  const denied = `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`
  if (role === undefined) return fail('AccessDenied', denied, requestId)
  if (role.externalId !== undefined && params.get('ExternalId') !== role.externalId)
    return fail('AccessDenied', denied, requestId)
  const duration = Number(params.get('DurationSeconds') ?? 3600)
  const max = role.maxSessionDuration ?? 3600
  if (!Number.isInteger(duration) || duration < 900 || duration > max) {
    return fail(
      'ValidationError',
      `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (900-${max}).`,
      requestId,
      400,
    )
  }
  const account = roleArn.split(':')[4] ?? caller.account
  const roleName = roleArn.split('/').pop() ?? 'role'
  const roleId = newAccessKeyId('AKIA').replace(/^AKIA/, 'AROA')
  const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`
  const session = store.issueSession(arn, account, `${roleId}:${sessionName}`, duration)
  return respond(action, requestId, {
    Credentials: {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: session.expiration!.toISOString(),
    },
    AssumedRoleUser: { Arn: arn, AssumedRoleId: `${roleId}:${sessionName}` },
  })
}
