import type {
  SecretsManagerFault,
  SecretsManagerStore,
  SecretValue,
} from './secrets-manager-store.js'
import type { VerifyFailureDetail, VerifyResult } from './sigv4-verifier.js'

/** One answer of the JSON 1.1 API; `type` is the error's `__type` (tests and the request log). */
export interface JsonResponse {
  status: number
  body: string
  type?: string
}

export const SECRETS_MANAGER_OPERATIONS = [
  'GetSecretValue',
  'PutSecretValue',
  'CreateSecret',
  'DescribeSecret',
] as const

/**
 * AWS's JSON-protocol error shape: `__type` and `Message`. Every Secrets Manager error, the
 * signature refusals of its front door included, is a 400 (a server fault would be a 500).
 */
export function jsonError(type: string, message: string, status = 400): JsonResponse {
  return { status, body: JSON.stringify({ __type: type, Message: message }), type }
}

const fromFault = (fault: SecretsManagerFault) => jsonError(fault.type, fault.message)

const refusalTypes: Record<VerifyFailureDetail, string> = {
  malformed: 'IncompleteSignatureException',
  'bad-expires': 'IncompleteSignatureException',
  'host-not-signed': 'IncompleteSignatureException',
  // JSON services word a skewed date as a signature problem: "Signature expired: ...".
  'signature-expired': 'InvalidSignatureException',
  'signature-not-yet-current': 'InvalidSignatureException',
  'wrong-scope-date': 'InvalidSignatureException',
  'wrong-region': 'InvalidSignatureException',
  'wrong-service': 'InvalidSignatureException',
  'unsigned-payload-refused': 'InvalidSignatureException',
  'payload-hash-mismatch': 'InvalidSignatureException',
  'signature-mismatch': 'InvalidSignatureException',
  'presigned-expired': 'ExpiredTokenException',
  'credentials-expired': 'ExpiredTokenException',
  'unknown-key': 'UnrecognizedClientException',
  'session-token-mismatch': 'UnrecognizedClientException',
}

/** A refused signature as Secrets Manager answers it (all 400s, like its other client faults). */
export function secretsManagerRefusal(
  refusal: Extract<VerifyResult, { ok: false }>,
  signed: boolean,
): JsonResponse {
  if (!signed)
    return jsonError('MissingAuthenticationTokenException', 'Missing Authentication Token')
  return jsonError(refusalTypes[refusal.detail], refusal.message)
}

type Input = Record<string, unknown>

/** SecretString or SecretBinary (base64 on the wire), exactly one. */
function secretValueOf(input: Input): SecretValue | undefined | 'both' {
  const text = input['SecretString']
  const binary = input['SecretBinary']
  if (text !== undefined && binary !== undefined) return 'both'
  if (typeof text === 'string') return { string: text }
  if (typeof binary === 'string') return { binary }
  return undefined
}

const seconds = (ms: number) => ms / 1000
const ok = (body: object): JsonResponse => ({ status: 200, body: JSON.stringify(body) })

/** Runs one operation for a caller whose signature was verified; `principal` is its ARN. */
export function handleSecretsManager(
  store: SecretsManagerStore,
  operation: string,
  input: Input,
  principal: string,
): JsonResponse {
  switch (operation) {
    case 'GetSecretValue': {
      const found = store.get({
        secretId: input['SecretId'],
        principal,
        versionId: input['VersionId'],
        stage: input['VersionStage'],
      })
      if ('type' in found) return fromFault(found)
      return ok({
        ARN: found.arn,
        Name: found.name,
        VersionId: found.versionId,
        ...('string' in found.value
          ? { SecretString: found.value.string }
          : { SecretBinary: found.value.binary }),
        VersionStages: found.stages,
        CreatedDate: seconds(found.createdAt),
      })
    }
    case 'PutSecretValue': {
      const value = secretValueOf(input)
      if (value === undefined || value === 'both')
        return jsonError(
          'InvalidParameterException',
          'You must provide either SecretString or SecretBinary, not both.',
        )
      const put = store.put({
        secretId: input['SecretId'],
        principal,
        value,
        versionId: input['ClientRequestToken'],
        stages: input['VersionStages'],
      })
      if ('type' in put) return fromFault(put)
      return ok({
        ARN: put.arn,
        Name: put.name,
        VersionId: put.versionId,
        VersionStages: put.stages,
      })
    }
    case 'CreateSecret': {
      const value = secretValueOf(input)
      if (value === 'both')
        return jsonError(
          'InvalidParameterException',
          'You can provide SecretString or SecretBinary, not both.',
        )
      const created = store.create({
        name: input['Name'],
        value,
        description: input['Description'],
        versionId: input['ClientRequestToken'],
      })
      if ('type' in created) return fromFault(created)
      return ok({
        ARN: created.arn,
        Name: created.name,
        ...(created.versionId === undefined ? {} : { VersionId: created.versionId }),
      })
    }
    case 'DescribeSecret': {
      const described = store.describe(input['SecretId'], principal)
      if ('type' in described) return fromFault(described)
      return ok({
        ARN: described.arn,
        Name: described.name,
        ...(described.description === undefined ? {} : { Description: described.description }),
        CreatedDate: seconds(described.createdAt),
        LastChangedDate: seconds(described.changedAt),
        VersionIdsToStages: described.versionIdsToStages,
      })
    }
    default:
      return jsonError(
        'UnknownOperationException',
        `The lab's Secrets Manager emulates ${SECRETS_MANAGER_OPERATIONS.join(', ')}; not ${operation || 'an empty operation'}.`,
      )
  }
}
