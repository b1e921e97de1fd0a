import type { AwsCredentials } from '@privatelink/base'
import type { SignatureV4 } from '@smithy/signature-v4'

export interface SignerSettings {
  service: string
  region: string
  credentials: () => Promise<AwsCredentials>
}

/**
 * Returns a loader for the SigV4 signer. `@smithy/signature-v4` and `@smithy/hash-node` are
 * imported on the first signed request, not when `@privatelink/http` is imported: most users of
 * the package never sign, and the signer is most of its import cost. One load per interceptor,
 * then cached; a failed load is retried on the next request.
 */
export function lazySigner(settings: SignerSettings): () => Promise<SignatureV4> {
  let loading: Promise<SignatureV4> | undefined
  return () => {
    loading ??= load(settings).catch((error: unknown) => {
      loading = undefined
      throw error
    })
    return loading
  }
}

async function load(settings: SignerSettings): Promise<SignatureV4> {
  const [{ SignatureV4 }, { Hash }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/hash-node'),
  ])
  // SHA-256 and HMAC from node:crypto (OpenSSL), not a pure-JS hash.
  class Sha256 extends Hash {
    constructor(secret?: Parameters<typeof Hash.prototype.update>[0]) {
      super('sha256', secret)
    }
  }
  const s3 = settings.service === 's3'
  return new SignatureV4({
    service: settings.service,
    region: settings.region,
    credentials: settings.credentials,
    sha256: Sha256,
    // S3 signs the path as sent and requires x-amz-content-sha256 on every request; every other
    // service signs the path URI-encoded once more and needs no payload-hash header.
    uriEscapePath: !s3,
    applyChecksum: s3,
  })
}
