import { Sha256 } from '@aws-crypto/sha256-js'
import { SignatureV4 } from '@smithy/signature-v4'
import type { CredentialsStore } from './credentials-store.js'

export interface SignedRequest {
  method: string
  /** Path without the query string. */
  path: string
  query: Record<string, string | string[]>
  headers: Record<string, string | string[] | undefined>
  body: string
}

export type VerifyResult =
  | {
      ok: true
      principal: { accessKeyId: string; arn: string; account: string }
      region: string
      service: string
    }
  | {
      ok: false
      reason: 'missing' | 'unknown-key' | 'mismatch' | 'expired' | 'bad-token'
      message: string
    }

const authorization =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!match) return undefined
  const [, y, mo, d, h, mi, s] = match
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)))
}

/**
 * Recomputes the request's SigV4 signature with @smithy/signature-v4 over exactly the headers the
 * client signed, and compares. Session tokens must match the one the lab's STS issued.
 */
export async function verifySigV4(
  request: SignedRequest,
  store: CredentialsStore,
): Promise<VerifyResult> {
  const match = authorization.exec(header(request.headers, 'authorization') ?? '')
  const amzDate = parseAmzDate(header(request.headers, 'x-amz-date') ?? '')
  if (!match || amzDate === undefined) {
    return {
      ok: false,
      reason: 'missing',
      message: 'Request is missing a valid SigV4 Authorization header.',
    }
  }
  const [, accessKeyId, , region, service, signedHeaderList, signature] =
    match as unknown as string[]
  const key = store.get(accessKeyId!)
  if (key === undefined) {
    return {
      ok: false,
      reason: 'unknown-key',
      message: 'The security token included in the request is invalid.',
    }
  }
  const token = header(request.headers, 'x-amz-security-token')
  if (key.sessionToken !== undefined && token !== key.sessionToken) {
    return {
      ok: false,
      reason: 'bad-token',
      message: 'The security token included in the request is invalid.',
    }
  }
  if (store.isExpired(key)) {
    return {
      ok: false,
      reason: 'expired',
      message: 'The security token included in the request is expired.',
    }
  }
  const signedNames = signedHeaderList!.split(';')
  const headers: Record<string, string> = {}
  for (const name of signedNames) headers[name] = header(request.headers, name) ?? ''
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      sessionToken: token,
    },
    region: region!,
    service: service!,
    sha256: Sha256,
    applyChecksum: false,
  })
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: (headers['host'] ?? '').split(':')[0] ?? '',
      path: request.path,
      query: request.query,
      headers,
      body: request.body,
    },
    { signingDate: amzDate, signableHeaders: new Set(signedNames) },
  )
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization']))?.[1]
  if (expected !== signature) {
    return {
      ok: false,
      reason: 'mismatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    }
  }
  // The principal only: a verify result may end up in a test log, so no secret rides along.
  return {
    ok: true,
    principal: { accessKeyId: key.accessKeyId, arn: key.arn, account: key.account },
    region: region!,
    service: service!,
  }
}
