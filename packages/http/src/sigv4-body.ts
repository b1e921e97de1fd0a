import { Response as UndiciResponse } from 'undici'

/**
 * What the signer makes of a request body:
 * - `bytes`: the whole body in memory (replayable); its SHA-256 is signed and these bytes are sent.
 * - `oversized`: larger than the buffering limit; `body` still carries every byte (what was read
 *   first, then the rest) for an UNSIGNED-PAYLOAD request, or is released when the request fails.
 * - `unknown`: not a body type undici accepts; passed on untouched so undici reports it.
 */
export type PreparedBody =
  | { kind: 'bytes'; bytes: Buffer | undefined; contentType?: string }
  | { kind: 'oversized'; body: unknown; bytesSeen: number; release: () => Promise<void> }
  | { kind: 'unknown'; body: unknown }

type AnyIterator = AsyncIterator<unknown> | Iterator<unknown>

const noop = async (): Promise<void> => {}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (typeof chunk === 'string') return Buffer.from(chunk)
  if (ArrayBuffer.isView(chunk))
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  throw new TypeError(`request body chunk must be a string or bytes, got ${typeof chunk}`)
}

function isBlobLike(body: object): body is Blob {
  const tag = (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag]
  return (
    body instanceof Blob ||
    ((tag === 'Blob' || tag === 'File') &&
      typeof (body as Blob).arrayBuffer === 'function' &&
      typeof (body as Blob).size === 'number')
  )
}

function isFormDataLike(body: object): boolean {
  return (
    (body as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'FormData' &&
    typeof (body as FormData).append === 'function' &&
    typeof (body as FormData).getAll === 'function'
  )
}

function iteratorOf(body: object): AnyIterator | undefined {
  const asyncIterator = (body as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator]
  if (typeof asyncIterator === 'function') return asyncIterator.call(body)
  const syncIterator = (body as Partial<Iterable<unknown>>)[Symbol.iterator]
  if (typeof syncIterator === 'function') return syncIterator.call(body)
  return undefined
}

// Hands on every byte of a body whose start was already read: what was read, then the rest.
async function* resume(head: Buffer[], rest: AnyIterator): AsyncGenerator<Buffer> {
  let finished = false
  try {
    yield* head
    for (;;) {
      const step = await rest.next()
      if (step.done === true) {
        finished = true
        return
      }
      yield toBuffer(step.value)
    }
  } finally {
    // The consumer stopped early (request aborted): let the source release its resources.
    if (!finished) await rest.return?.()
  }
}

/**
 * Reads a stream or iterable body until it ends or passes `limit` bytes. Returns the bytes, or
 * the body rebuilt from what was read plus the unread rest, so nothing is lost either way.
 */
async function readIterator(iterator: AnyIterator, limit: number): Promise<PreparedBody> {
  const chunks: Buffer[] = []
  let length = 0
  for (;;) {
    const step = await iterator.next()
    if (step.done === true) return { kind: 'bytes', bytes: Buffer.concat(chunks, length) }
    const chunk = toBuffer(step.value)
    chunks.push(chunk)
    length += chunk.byteLength
    if (length > limit) {
      return {
        kind: 'oversized',
        body: resume(chunks, iterator),
        bytesSeen: length,
        release: async () => {
          await iterator.return?.()
        },
      }
    }
  }
}

function responseFor(body: FormData): Response {
  // A FormData from Node's built-in fetch and one from the undici package are different classes;
  // each one's own Response serialises it (multipart with a boundary it chooses).
  return body instanceof globalThis.FormData
    ? new globalThis.Response(body)
    : (new UndiciResponse(body as never) as unknown as Response)
}

/**
 * Turns a dispatch body into bytes that can be hashed, buffering at most `limit` bytes of a body
 * that is not already in memory. Strings and byte arrays are in memory already and are never
 * limited. `declaredLength` (a content-length header) lets an oversized body fail before a byte
 * is read.
 */
export async function prepareBody(
  body: unknown,
  limit: number,
  declaredLength: number | undefined,
): Promise<PreparedBody> {
  if (body === undefined || body === null) return { kind: 'bytes', bytes: undefined }
  if (typeof body === 'string') return { kind: 'bytes', bytes: Buffer.from(body) }
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer)
    return { kind: 'bytes', bytes: toBuffer(body) }
  if (typeof body !== 'object') return { kind: 'unknown', body }
  if (isBlobLike(body)) {
    if (body.size > limit) return { kind: 'oversized', body, bytesSeen: body.size, release: noop }
    const bytes = Buffer.from(await body.arrayBuffer())
    return body.type === ''
      ? { kind: 'bytes', bytes }
      : { kind: 'bytes', bytes, contentType: body.type }
  }
  if (isFormDataLike(body)) {
    const response = responseFor(body as FormData)
    const contentType = response.headers.get('content-type') ?? undefined
    const stream = response.body
    if (stream === null) return { kind: 'bytes', bytes: undefined, contentType }
    const read = await readIterator(iterateStream(stream), limit)
    // Over the limit, send the FormData itself: undici serialises it again, with its own boundary.
    if (read.kind === 'oversized') {
      await read.release()
      return { kind: 'oversized', body, bytesSeen: read.bytesSeen, release: noop }
    }
    return read.kind === 'bytes' && contentType !== undefined ? { ...read, contentType } : read
  }
  if (declaredLength !== undefined && declaredLength > limit) {
    return { kind: 'oversized', body, bytesSeen: declaredLength, release: () => dispose(body) }
  }
  const iterator = iteratorOf(body)
  if (iterator === undefined) return { kind: 'unknown', body }
  return readIterator(iterator, limit)
}

function iterateStream(stream: ReadableStream<Uint8Array>): AnyIterator {
  return (stream as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
}

// A body refused before it was read: release it the way undici would (destroy / cancel).
async function dispose(body: object): Promise<void> {
  const candidate = body as {
    destroy?: () => void
    cancel?: () => Promise<void>
    return?: () => Promise<unknown>
  }
  if (typeof candidate.destroy === 'function') candidate.destroy()
  else if (typeof candidate.cancel === 'function') await candidate.cancel()
  else if (typeof candidate.return === 'function') await candidate.return()
}
