import { EventEmitter } from 'node:events'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { removeIdle } from './pg-pool-internals.js'

// Pins what pg-pool-internals.ts says this package relies on: a pg-pool upgrade that changes any
// of it fails here, not in production. The clients are fakes (pg-pool accepts any Client class),
// so only pg-pool's own behaviour is under test.
const KEY = Symbol('context')
const built: FakeClient[] = []

class FakeClient extends EventEmitter {
  readonly config: Record<string | symbol, unknown>
  _queryable = true
  _ending = false
  constructor(config: Record<string | symbol, unknown>) {
    super()
    this.config = config
    built.push(this)
  }
  connect(callback: (error?: Error) => void): void {
    queueMicrotask(() => callback())
  }
  end(callback?: () => void): void {
    this._ending = true
    queueMicrotask(() => callback?.())
  }
}

const poolOf = () =>
  new pg.Pool({ Client: FakeClient, [KEY]: 'context', max: 2 } as unknown as pg.PoolConfig)

describe('pg-pool behaviour we rely on', () => {
  it('builds each client with the pool options, symbol keys included', async () => {
    const pool = poolOf()
    const client = (await pool.connect()) as unknown as FakeClient
    expect(client).toBeInstanceOf(FakeClient)
    expect(client.config[KEY]).toBe('context')
    ;(client as unknown as pg.PoolClient).release()
    await pool.end()
  })

  it("emits 'acquire' before the checkout's callback and 'release' before filing the client idle", async () => {
    const pool = poolOf()
    const seen: string[] = []
    pool.on('acquire', () => seen.push(`acquire idle=${pool.idleCount}`))
    pool.on('release', () => seen.push(`release idle=${pool.idleCount}`))
    const client = await pool.connect()
    seen.push('checked out')
    client.release()
    seen.push(`released idle=${pool.idleCount}`)
    const again = await pool.connect()
    seen.push(`checked out idle=${pool.idleCount}`)
    again.release()
    expect(seen).toEqual([
      'acquire idle=0',
      'checked out',
      'release idle=0',
      'released idle=1',
      'acquire idle=0',
      'checked out idle=0',
      'release idle=0',
    ])
    await pool.end()
  })

  it("removes an idle client that emits 'error' synchronously, ends it, and re-emits on the pool", async () => {
    const pool = poolOf()
    const client = await pool.connect()
    client.release()
    expect(pool.idleCount).toBe(1)
    const errors: unknown[] = []
    pool.on('error', (error, from) => errors.push([error, from]))
    const removed = new Promise((resolve) => pool.once('remove', resolve))
    const error = new Error('zone ejected')
    expect(removeIdle(client, error)).toBe(true)
    // Synchronously out of the idle list: no checkout can pick it any more.
    expect(pool.idleCount).toBe(0)
    expect(pool.totalCount).toBe(0)
    expect(errors).toEqual([[error, client]])
    expect(await removed).toBe(client)
    expect((client as unknown as FakeClient)._ending).toBe(true)
    await pool.end()
  })

  it('assigns client.release on each checkout; release(true) removes the client even with a checkout waiting', async () => {
    const pool = poolOf()
    const assigned: unknown[] = []
    class Watching extends FakeClient {
      set release(value: unknown) {
        assigned.push(value)
      }
      get release(): unknown {
        return assigned.at(-1)
      }
    }
    const watched = new pg.Pool({ Client: Watching, max: 1 } as unknown as pg.PoolConfig)
    const first = await watched.connect()
    expect(assigned).toHaveLength(1)
    const waiting = watched.connect()
    first.release(true)
    const second = await waiting
    expect(second).not.toBe(first)
    expect(assigned).toHaveLength(2)
    second.release()
    await Promise.all([watched.end(), pool.end()])
  })

  it('leaves a client nobody listens to alone', () => {
    const client = new FakeClient({})
    expect(removeIdle(client as unknown as pg.Client, new Error('x'))).toBe(false)
  })
})
