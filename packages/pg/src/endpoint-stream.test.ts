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
    watch: () => ({ zone: 'usw2-az1', target: { index: 0 }, leaving: undefined, release() {} }),
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
