import type { Socket } from 'node:net'

/** Opens a TCP socket to an address (`net.connect` by default); tests and proxies pass their own. */
export type Dial = (options: { host: string; port: number }) => Socket

/**
 * Opens one TCP connection and settles once: connected, failed, timed out, or abandoned through
 * `signal` (whose reason is the rejection).
 */
export function tcpConnect(
  dial: Dial,
  target: { host: string; port: number },
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Socket> {
  if (signal.aborted) return Promise.reject(signal.reason)
  const socket = dial(target)
  return new Promise<Socket>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      socket.off('connect', onConnect)
      socket.off('error', onError)
    }
    const fail = (error: unknown) => {
      cleanup()
      socket.destroy()
      reject(error)
    }
    const onConnect = () => {
      cleanup()
      resolve(socket)
    }
    const onError = (error: Error) => fail(error)
    const onAbort = () => fail(signal.reason)
    const timer = setTimeout(
      () =>
        fail(
          Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), {
            code: 'ETIMEDOUT',
          }),
        ),
      timeoutMs,
    )
    socket.once('connect', onConnect)
    socket.once('error', onError)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Why the connector abandoned an attempt; never counted against the zone. */
export const abandoned = (why: string) =>
  Object.assign(new Error(`attempt abandoned: ${why}`), { code: 'ABORT_ERR' })
