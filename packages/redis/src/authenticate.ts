import type { Socket } from 'node:net'
import { authFailedError, authTimeoutError, inspectToken } from './errors.js'
import type { ElastiCacheTokenProvider } from './token-provider.js'

/** How a connection logs in: a fixed password, or IAM tokens from a provider. */
export type Authenticator =
  | { kind: 'password'; user: string | undefined; password: string }
  | { kind: 'iam'; user: string; provider: ElastiCacheTokenProvider }

export interface AuthenticateContext {
  servername: string
  timeoutMs: number
  clock: () => number
}

const CRLF = Buffer.from('\r\n')

function encode(args: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const value = Buffer.from(arg)
    parts.push(Buffer.from(`$${value.length}\r\n`), value, CRLF)
  }
  return Buffer.concat(parts)
}

/**
 * Writes one command and reads its reply: a line (`+OK`, `-WRONGPASS ...`) or a bulk string's
 * content, before the socket is handed to ioredis. Bytes after the reply (there should be none)
 * are put back for ioredis.
 */
export function exchange(
  socket: Socket,
  args: string[],
  timeoutMs: number,
  servername: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0)
    const done = (error: unknown, line?: string) => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
      if (error === undefined) resolve(line!)
      else reject(error)
    }
    const onData = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
      const end = buffer.indexOf(CRLF)
      if (end < 0) return
      let line = buffer.toString('utf8', 0, end)
      let next = end + 2
      // A bulk reply (CLUSTER NODES) is returned as its content.
      if (line.startsWith('$') && Number(line.slice(1)) >= 0) {
        const length = Number(line.slice(1))
        if (buffer.length < next + length + 2) return
        line = buffer.toString('utf8', next, next + length)
        next += length + 2
      }
      const rest = buffer.subarray(next)
      done(undefined, line)
      if (rest.length > 0) socket.unshift(rest)
    }
    const onError = (error: Error) => done(error)
    const onClose = () =>
      done(
        Object.assign(new Error(`${servername} closed the connection during AUTH`), {
          code: 'ECONNRESET',
        }),
      )
    const timer = setTimeout(() => done(authTimeoutError(servername, timeoutMs)), timeoutMs)
    socket.on('data', onData)
    socket.once('error', onError)
    socket.once('close', onClose)
    socket.write(encode(args))
  })
}

const authArgs = (user: string | undefined, secret: string) =>
  user === undefined ? ['AUTH', secret] : ['AUTH', user, secret]

/**
 * Authenticates a fresh connection. An IAM token refused once is re-signed and tried again (the
 * credentials may have rotated); a second refusal is a typed error. Never puts a secret in an error.
 */
export async function authenticate(
  socket: Socket,
  authenticator: Authenticator,
  context: AuthenticateContext,
): Promise<void> {
  const { servername, timeoutMs, clock } = context
  if (authenticator.kind === 'password') {
    const reply = await exchange(
      socket,
      authArgs(authenticator.user, authenticator.password),
      timeoutMs,
      servername,
    )
    if (reply.startsWith('+')) return
    const token = inspectToken(authenticator.password)
    throw authFailedError({
      user: authenticator.user ?? 'default',
      kind: 'password',
      servername,
      serverMessage: reply.slice(1).split(' ')[0] ?? 'ERR',
      ...(token === undefined ? {} : { token }),
      now: clock(),
    })
  }
  const { provider, user } = authenticator
  let reply = await exchange(
    socket,
    ['AUTH', user, await provider.getToken()],
    timeoutMs,
    servername,
  )
  if (reply.startsWith('+')) return
  await provider.refresh()
  reply = await exchange(socket, ['AUTH', user, await provider.getToken()], timeoutMs, servername)
  if (reply.startsWith('+')) return
  throw authFailedError({
    user,
    kind: 'iam',
    servername,
    cacheName: provider.cacheName,
    serverMessage: reply.slice(1).split(' ')[0] ?? 'ERR',
    token: { user: provider.userId },
    now: clock(),
  })
}

/** True for a typed auth refusal: the connector stops retrying it. */
export const isAuthRefusal = (code: string): boolean =>
  code === 'ERR_REDIS_AUTH_FAILED' ||
  code === 'ERR_REDIS_IAM_AUTH_FAILED' ||
  code === 'ERR_REDIS_TOKEN_EXPIRED' ||
  code === 'ERR_REDIS_TOKEN_USER_MISMATCH'
