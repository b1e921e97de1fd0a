import { once } from 'node:events'
import { Duplex } from 'node:stream'
import type { Connector } from '@privatelink/core'
import { describe, expect, it } from 'vitest'
import { EndpointStream } from './endpoint-stream.js'

/** A connected socket whose every write fails as a reset connection's does. */
class ResetOnWrite extends Duplex {
  override _read(): void {}
  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    callback(Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' }))
  }
}

const fakeConnector = (socket: Duplex) =>
  ({
    connect: async () => socket,
    pathIdleTimeoutMs: 350_000,
    watch: () => ({
      zone: 'usw2-az1',
      target: { index: 0 },
      leaving: undefined,
      release() {},
      stale: () => false,
    }),
  }) as unknown as Connector

describe('EndpointStream', () => {
  it('a write the socket fails ends the stream with a typed error, never the raw ECONNRESET', async () => {
    const socket = new ResetOnWrite()
    socket.on('error', () => {})
    const stream = new EndpointStream({
      connector: () => fakeConnector(socket),
      tls: { servername: 'db.proxy-abc.us-west-2.rds.amazonaws.com', insecure: 'plaintext' },
      handshakeTimeoutMs: 1_000,
    })
    stream.connect(5432)
    await once(stream, 'connect')
    const failed = once(stream, 'error')
    stream.write(Buffer.from('Q\u0000\u0000\u0000\u000dSELECT 1\u0000'))
    const [error] = (await failed) as [{ code?: string; hint?: string }]
    expect(error.code).toBe('ERR_PG_CONNECTION_LOST')
    expect(error.hint).toEqual(expect.any(String))
  })
})

/** A connected socket that records each write it gets (a corked batch arrives as one). */
class Recording extends Duplex {
  readonly writes: Buffer[] = []
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
    this.writes.push(chunk)
    callback()
  }
  override _writev(chunks: { chunk: Buffer }[], callback: () => void) {
    this.writes.push(Buffer.concat(chunks.map((c) => c.chunk)))
    callback()
  }
}

describe('EndpointStream passes bytes straight through', () => {
  it("pg's corked Parse / Bind / Execute / Sync reach the socket as one write", async () => {
    const socket = new Recording()
    const stream = new EndpointStream({
      connector: () => fakeConnector(socket),
      tls: { servername: 'db.proxy-abc.us-west-2.rds.amazonaws.com', insecure: 'plaintext' },
      handshakeTimeoutMs: 1_000,
    })
    stream.connect(5432)
    await once(stream, 'connect')
    // What pg's Query.prepare does for a parameterised query.
    stream.cork()
    for (const message of ['P', 'B', 'D', 'E', 'S'])
      stream.write(Buffer.from(`${message}\u0000\u0000\u0000\u0004`))
    stream.uncork()
    await new Promise((resolve) => setImmediate(resolve))
    expect(
      socket.writes.map((write) =>
        [...write]
          .filter((byte) => byte > 0x20)
          .map((byte) => String.fromCharCode(byte))
          .join(''),
      ),
    ).toEqual(['PBDES'])
    expect(stream.outstanding).toBe(true)
    // The answer's ReadyForQuery ends the request.
    const received: Buffer[] = []
    stream.on('data', (chunk: Buffer) => received.push(chunk))
    socket.push(Buffer.from([0x32, 0, 0, 0, 4, 0x5a, 0, 0, 0, 5, 0x49]))
    await new Promise((resolve) => setImmediate(resolve))
    expect(received).toHaveLength(1)
    expect(stream.outstanding).toBe(false)
  })
})
