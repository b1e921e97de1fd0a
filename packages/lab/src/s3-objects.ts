import { createHash } from 'node:crypto'
import { escapeXml } from './query-protocol.js'

/** One stored object. */
export interface S3Object {
  bytes: Buffer
  etag: string
  lastModified: Date
  contentType: string
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/** S3's error document. */
export function s3ErrorXml(code: string, message: string, requestId: string, key?: string): string {
  const keyXml = key === undefined ? '' : `<Key>${escapeXml(key)}</Key>`
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${keyXml}<RequestId>${requestId}</RequestId></Error>`
}

/** The lab's buckets: objects kept in memory. */
export class S3Buckets {
  readonly #buckets = new Map<string, Map<string, S3Object>>()

  create(bucket: string): void {
    if (!this.#buckets.has(bucket)) this.#buckets.set(bucket, new Map())
  }

  has(bucket: string): boolean {
    return this.#buckets.has(bucket)
  }

  put(bucket: string, key: string, bytes: Buffer, contentType: string, now: Date): S3Object {
    const object = {
      bytes,
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      lastModified: now,
      contentType,
    }
    this.#buckets.get(bucket)!.set(key, object)
    return object
  }

  get(bucket: string, key: string): S3Object | undefined {
    return this.#buckets.get(bucket)?.get(key)
  }

  /** ListObjectsV2's answer: keys under `prefix`, in order, up to `maxKeys`, with a continuation token. */
  listV2(bucket: string, query: URLSearchParams): string {
    const prefix = query.get('prefix') ?? ''
    const maxKeys = Math.min(Number(query.get('max-keys') ?? 1000) || 1000, 1000)
    const after = query.get('continuation-token') ?? query.get('start-after') ?? ''
    const keys = [...(this.#buckets.get(bucket)?.keys() ?? [])]
      .filter((key) => key.startsWith(prefix) && key > after)
      .sort()
    const page = keys.slice(0, maxKeys)
    const truncated = keys.length > page.length
    const contents = page
      .map((key) => {
        const object = this.#buckets.get(bucket)!.get(key)!
        return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${escapeXml(object.etag)}</ETag><Size>${object.bytes.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`
      })
      .join('')
    const next = truncated
      ? `<NextContinuationToken>${escapeXml(page.at(-1)!)}</NextContinuationToken>`
      : ''
    return `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}"><Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`
  }
}
