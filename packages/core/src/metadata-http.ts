// node:http and node:https load on the first metadata request, not at import (~5 ms of every cold
// start, and a dispatcher user never needs them). The module objects are the live ones:
// `request` is looked up at call time, as the AWS SDK does, so instrumentation (and msw in tests)
// sees these requests too.
const loadHttp = () => import('node:http')
const loadHttps = () => import('node:https')

export interface MetadataResponse {
  status: number
  body: string
}

export interface MetadataRequest {
  method?: string
  headers?: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal | undefined
}

const MAX_BODY = 64 * 1024

/**
 * One metadata request on node:http with its own agentless socket: never through undici's global
 * dispatcher (an endpoint-pinned dispatcher installed with setGlobalDispatcher would refuse
 * 169.254.169.254), and without loading undici (a cold-start cost). Rejects with an Error whose
 * `code` is the socket's (ECONNREFUSED, ...), 'ETIMEDOUT' or 'ABORT_ERR'.
 */
export async function metadataRequest(
  url: string,
  options: MetadataRequest,
): Promise<MetadataResponse> {
  const target = new URL(url)
  const module = target.protocol === 'https:' ? await loadHttps() : await loadHttp()
  const send = (module.default ?? module).request
  // Aborted while the module loaded: no request at all.
  if (options.signal?.aborted) throw Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })
  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      cleanup()
      request.destroy()
      reject(error)
    }
    const request = send(target, {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      agent: false,
    })
    // First, so that destroying it on any path below never emits an unhandled 'error'.
    request.on('error', fail)
    const timer = setTimeout(
      () =>
        fail(
          Object.assign(new Error(`no answer in ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        ),
      options.timeoutMs,
    )
    const onAbort = () => fail(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }))
    const cleanup = () => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    if (options.signal?.aborted) return onAbort()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    request.on('response', (response) => {
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY) fail(Object.assign(new Error('body too large'), { code: 'EMSGSIZE' }))
        else chunks.push(chunk)
      })
      response.on('error', fail)
      response.on('end', () => {
        if (settled) return
        settled = true
        cleanup()
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
      })
    })
    request.end()
  })
}
