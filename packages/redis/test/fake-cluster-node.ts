import { createServer, type Server, type Socket } from 'node:net'

/** A reply the fake sends for one command: RESP text, already encoded. */
export type FakeReply = (args: string[]) => string | undefined

export interface FakeClusterNode {
  /** The loopback port it listens on. */
  port: number
  /** Commands received, in order (names upper-cased with their arguments). */
  commands: string[][]
  close(): Promise<void>
}

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`

/** Parses complete RESP arrays of bulk strings off the front of `buffer`. */
function parse(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = []
  let offset = 0
  for (;;) {
    const start = offset
    const lineEnd = buffer.indexOf('\r\n', offset)
    if (lineEnd < 0 || buffer[offset] !== 0x2a) return { commands, rest: buffer.subarray(start) }
    const count = Number(buffer.toString('latin1', offset + 1, lineEnd))
    offset = lineEnd + 2
    const args: string[] = []
    for (let index = 0; index < count; index++) {
      const end = buffer.indexOf('\r\n', offset)
      if (end < 0) return { commands, rest: buffer.subarray(start) }
      const length = Number(buffer.toString('latin1', offset + 1, end))
      if (buffer.length < end + 2 + length + 2) return { commands, rest: buffer.subarray(start) }
      args.push(buffer.toString('utf8', end + 2, end + 2 + length))
      offset = end + 2 + length + 2
    }
    commands.push(args)
  }
}

/**
 * One Redis Cluster node on 127.0.0.1 that owns every slot and announces `announced` (host:port)
 * for itself: enough of the protocol for ioredis' Cluster (CLUSTER SLOTS / NODES / INFO, INFO,
 * HELLO refused so RESP2 is used); `reply` answers any other command (default `+OK`). MULTI /
 * EXEC as Redis does them: a command inside MULTI is `+QUEUED` unless `reply` refuses it, and
 * EXEC after such a refusal is `-EXECABORT`.
 */
export async function startFakeClusterNode(
  announced: { host: string; port: number },
  reply: FakeReply = () => undefined,
): Promise<FakeClusterNode> {
  const id = 'f'.repeat(40)
  const commands: string[][] = []
  const sockets = new Set<Socket>()
  const answer = (args: string[]): string => {
    const name = args[0]!.toUpperCase()
    const sub = args[1]?.toUpperCase()
    const custom = reply(args)
    if (custom !== undefined) return custom
    if (name === 'HELLO') return "-ERR unknown command 'HELLO'\r\n"
    if (name === 'CLUSTER' && sub === 'SLOTS')
      return `*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n${bulk(announced.host)}:${announced.port}\r\n${bulk(id)}`
    if (name === 'CLUSTER' && sub === 'NODES')
      return bulk(
        `${id} 127.0.0.1:${announced.port}@1${announced.port},${announced.host} myself,master - 0 0 1 connected 0-16383\n`,
      )
    if (name === 'CLUSTER' && sub === 'INFO')
      return bulk('cluster_state:ok\r\ncluster_known_nodes:1\r\n')
    if (name === 'INFO') return bulk('# Server\r\nloading:0\r\n')
    if (name === 'PING') return '+PONG\r\n'
    return '+OK\r\n'
  }
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending: Buffer = Buffer.alloc(0)
    // This connection's transaction: the replies EXEC will send, and whether a command was refused.
    let transaction: { replies: string[]; refused: boolean } | undefined
    const transact = (args: string[]): string => {
      const name = args[0]!.toUpperCase()
      if (name === 'MULTI') {
        transaction = { replies: [], refused: false }
        return '+OK\r\n'
      }
      if (transaction === undefined) return answer(args)
      if (name === 'EXEC') {
        const { replies, refused } = transaction
        transaction = undefined
        return refused
          ? '-EXECABORT Transaction discarded because of previous errors.\r\n'
          : `*${replies.length}\r\n${replies.join('')}`
      }
      const reply = answer(args)
      if (reply.startsWith('-')) {
        transaction.refused = true
        return reply
      }
      transaction.replies.push(reply)
      return '+QUEUED\r\n'
    }
    socket.on('data', (chunk: Buffer) => {
      const parsed = parse(pending.length === 0 ? chunk : Buffer.concat([pending, chunk]))
      pending = parsed.rest
      for (const args of parsed.commands) {
        commands.push(args)
        socket.write(transact(args))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
