import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port.js'

export type RespValue = string | number | null | RespValue[] | Error

export interface RedisClusterNode {
  /** The node's client port on 127.0.0.1. */
  port: number
  busPort: number
  id: string
  /** Slots it served at start: [first, last]. */
  slots: [number, number]
}

export interface RedisCluster {
  nodes: RedisClusterNode[]
  /** One command to node `index`, straight to its port (setup and assertions, not the code under test). */
  command(index: number, ...args: (string | number)[]): Promise<RespValue>
  /**
   * Makes every node announce `hostnames[i]` (CLUSTER SLOTS and MOVED then name it instead of
   * 127.0.0.1, as ElastiCache names its nodes) and waits until every node reports all of them.
   */
  announce(hostnames: string[]): Promise<void>
  /** The index of the node serving `slot` now. */
  ownerOf(slot: number): Promise<number>
  /**
   * Moves a slot and its keys as `redis-cli --cluster reshard` does: IMPORTING / MIGRATING,
   * MIGRATE of the keys, then SETSLOT NODE on every node.
   */
  migrateSlot(slot: number, to: number): Promise<{ from: number; keys: number }>
  close(): Promise<void>
}

/** Sends one command over a fresh connection and reads one reply. */
export function redisCommand(port: number, args: (string | number)[]): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let buffer = Buffer.alloc(0)
    socket.setTimeout(5_000, () =>
      socket.destroy(new Error(`redis ${port}: no reply to ${args[0]}`)),
    )
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const parsed = parseReply(buffer, 0)
      if (parsed === undefined) return
      socket.destroy()
      resolve(parsed.value)
    })
    const parts = args.map((arg) => Buffer.from(String(arg)))
    socket.write(
      Buffer.concat([
        Buffer.from(`*${parts.length}\r\n`),
        ...parts.flatMap((part) => [Buffer.from(`$${part.length}\r\n`), part, Buffer.from('\r\n')]),
      ]),
    )
  })
}

function parseReply(
  buffer: Buffer,
  offset: number,
): { value: RespValue; next: number } | undefined {
  const end = buffer.indexOf('\r\n', offset)
  if (end < 0) return undefined
  const type = String.fromCharCode(buffer[offset]!)
  const line = buffer.toString('utf8', offset + 1, end)
  const next = end + 2
  if (type === '+') return { value: line, next }
  if (type === '-') return { value: new Error(line), next }
  if (type === ':') return { value: Number(line), next }
  if (type === '$') {
    const length = Number(line)
    if (length < 0) return { value: null, next }
    if (buffer.length < next + length + 2) return undefined
    return { value: buffer.toString('utf8', next, next + length), next: next + length + 2 }
  }
  if (type === '*') {
    const count = Number(line)
    if (count < 0) return { value: null, next }
    const values: RespValue[] = []
    let cursor = next
    for (let index = 0; index < count; index++) {
      const item = parseReply(buffer, cursor)
      if (item === undefined) return undefined
      values.push(item.value)
      cursor = item.next
    }
    return { value: values, next: cursor }
  }
  throw new Error(`unexpected reply type ${type}`)
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return
    // Polls another process's state (gossip), not a timer of ours.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`redis cluster: timed out waiting for ${what}`)
}

const RANGES: [number, number][] = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
]

const running = new Set<ChildProcess>()
let exitHookInstalled = false

/**
 * A real 3-master Redis Cluster on 127.0.0.1 random ports (cluster bus on its own random ports),
 * from `redis-server` on PATH, in a temporary directory. Resolves `{ unavailable }` when the
 * binary is missing so callers can skip with a banner; `close()` kills the processes and removes
 * the directory.
 */
export async function startRedisCluster(
  binary = 'redis-server',
): Promise<RedisCluster | { unavailable: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'privatelink-redis-cluster-'))
  const children: ChildProcess[] = []
  const close = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            running.delete(child)
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGKILL')
          }),
      ),
    )
    await rm(dir, { recursive: true, force: true })
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const child of running) child.kill('SIGKILL')
    })
  }
  try {
    const ports: { port: number; busPort: number }[] = []
    const taken = new Set<number>()
    while (ports.length < 3) {
      const port = await freePort()
      const busPort = await freePort()
      if (port === busPort || taken.has(port) || taken.has(busPort)) continue
      taken.add(port).add(busPort)
      ports.push({ port, busPort })
    }
    for (const { port, busPort } of ports) {
      const child = spawn(
        binary,
        [
          '--port',
          String(port),
          '--cluster-port',
          String(busPort),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '5000',
          // Clients get hostnames (the lab's names for the nodes), the bus keeps 127.0.0.1.
          '--cluster-preferred-endpoint-type',
          'hostname',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      )
      const spawned = await new Promise<Error | null>((resolve) => {
        child.once('error', resolve)
        child.once('spawn', () => resolve(null))
      })
      if (spawned !== null) {
        await close()
        return {
          unavailable: `${binary} could not be started (${spawned.message}); install it with: apt-get install -y redis-server`,
        }
      }
      children.push(child)
      running.add(child)
    }
    const command = (index: number, ...args: (string | number)[]) =>
      redisCommand(ports[index]!.port, args)
    for (const [index] of ports.entries())
      await waitFor(
        `node ${index} to answer`,
        async () => (await command(index, 'PING')) === 'PONG',
      )
    for (const [index, range] of RANGES.entries())
      await command(index, 'CLUSTER', 'ADDSLOTSRANGE', range[0], range[1])
    for (const { port, busPort } of ports.slice(1))
      await command(0, 'CLUSTER', 'MEET', '127.0.0.1', port, busPort)
    const ids = await Promise.all(
      ports.map(async (_, index) => String(await command(index, 'CLUSTER', 'MYID'))),
    )
    await waitFor('cluster_state:ok on every node', async () => {
      for (const index of ports.keys()) {
        const info = String(await command(index, 'CLUSTER', 'INFO'))
        if (!info.includes('cluster_state:ok') || !info.includes('cluster_known_nodes:3'))
          return false
      }
      return true
    })
    const nodes: RedisClusterNode[] = ports.map((p, index) => ({
      ...p,
      id: ids[index]!,
      slots: RANGES[index]!,
    }))
    const ownerOf = async (slot: number) => {
      const slots = (await command(0, 'CLUSTER', 'SLOTS')) as RespValue[][]
      for (const range of slots) {
        if (slot >= Number(range[0]) && slot <= Number(range[1])) {
          const master = range[2] as RespValue[]
          const id = String(master[2])
          return nodes.findIndex((node) => node.id === id)
        }
      }
      throw new Error(`slot ${slot} has no owner`)
    }
    return {
      nodes,
      command,
      ownerOf,
      async announce(hostnames) {
        for (const [index, hostname] of hostnames.entries())
          await command(index, 'CONFIG', 'SET', 'cluster-announce-hostname', hostname)
        await waitFor('every node to report every hostname', async () => {
          for (const index of ports.keys()) {
            const slots = JSON.stringify(await command(index, 'CLUSTER', 'SLOTS'))
            if (!hostnames.every((hostname) => slots.includes(`"${hostname}"`))) return false
          }
          return true
        })
      },
      async migrateSlot(slot, to) {
        const from = await ownerOf(slot)
        if (from === to) return { from, keys: 0 }
        const source = nodes[from]!
        const target = nodes[to]!
        const check = (value: RespValue) => {
          if (value instanceof Error) throw value
          return value
        }
        check(await command(to, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id))
        check(await command(from, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id))
        let moved = 0
        for (;;) {
          const keys = check(await command(from, 'CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[]
          if (keys.length === 0) break
          check(
            await command(from, 'MIGRATE', '127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys),
          )
          moved += keys.length
        }
        // The new owner first, as redis-cli does, so the old owner's MOVED points at a ready node.
        check(await command(to, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id))
        check(await command(from, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id))
        for (const index of nodes.keys())
          if (index !== to && index !== from)
            check(await command(index, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id))
        return { from, keys: moved }
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
