import { invalidOption } from '@privatelink/core'
import { unmappedNodeError } from './errors.js'
import { invalidSecretOption } from './secret-option.js'

/**
 * Announced node address (`host:port`, as CLUSTER SLOTS and MOVED name it) -> the endpoint's
 * listener port for that node, as a number or `{ port }`: an object (checked at construction) or
 * a function called with the address. An address it does not map (the function returns
 * `undefined`) is found by discovery instead: each listener is asked which node it leads to.
 */
export type NodeNatMap =
  | Record<
      string,
      | {
          /** The listener port leading to this node: an integer from 1 to 65535. */
          port: number
        }
      | number
    >
  | ((address: string) =>
      | {
          /** The listener port leading to this node: an integer from 1 to 65535. */
          port: number
        }
      | number
      | undefined)

export interface NodeMapSettings {
  natMap: NodeNatMap | undefined
  /** The endpoint's listener ports, one per node. */
  ports: readonly number[]
  /** Startup nodes are `servername:listenerPort`: dialled as they are. */
  servername: string
  /** Asks every listener which node it leads to: announced address -> listener port. */
  discover(): Promise<Map<string, number>>
  /** Discovery runs again for an unknown address at most this often. @default 1000 */
  rediscoverMs?: number
}

const portOf = (value: { port: number } | number | undefined): number | undefined => {
  const port = typeof value === 'number' ? value : value?.port
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65_535
    ? port
    : undefined
}

export function validateNatMap(natMap: unknown): NodeNatMap | undefined {
  if (natMap === undefined || typeof natMap === 'function') return natMap as NodeNatMap | undefined
  if (typeof natMap !== 'object' || natMap === null)
    throw invalidOption('natMap', "an object { 'host:port': { port } } or a function", natMap)
  for (const [key, value] of Object.entries(natMap)) {
    // A host has no '@' or '/': a key with them may be a URL with a password, never echoed (the
    // key is part of the option's name in the errors below).
    if (!/^[^@/\s]+:\d+$/.test(key))
      throw invalidSecretOption('natMap', "keys of the form 'host:port' (no URL)", key)
    if (portOf(value as { port: number }) === undefined)
      throw invalidOption(`natMap['${key}']`, '{ port } with the listener port (1-65535)', value)
  }
  return natMap as NodeNatMap
}

/**
 * Where each cluster node is reached through the endpoint. ioredis keeps the addresses the cluster
 * announces as its node keys (no natMap is given to it), and this map turns them into listener
 * ports when a connection is opened. So a MOVED, which ioredis records unmapped (ioredis #1582 /
 * #1583), names a key its pool knows, and the retry goes to the right node instead of a random
 * one until the next slot refresh.
 */
export class NodeMap {
  readonly #settings: NodeMapSettings
  #discovered = new Map<string, number>()
  #discovering: Promise<void> | undefined
  #lastDiscovery = Number.NEGATIVE_INFINITY

  constructor(settings: NodeMapSettings) {
    this.#settings = settings
  }

  /** Known mappings (tests and diagnostics). */
  known(): Record<string, number> {
    return Object.fromEntries(this.#discovered)
  }

  /** Whether the address maps to a listener now, without discovery. */
  knows(host: string | undefined, port: number): boolean {
    return this.#lookup(host, port, `${host ?? ''}:${port}`) !== undefined
  }

  async portFor(host: string | undefined, port: number): Promise<number> {
    const address = `${host ?? ''}:${port}`
    const found = this.#lookup(host, port, address)
    if (found !== undefined) return found
    const rediscoverMs = this.#settings.rediscoverMs ?? 1_000
    if (
      this.#discovering === undefined &&
      performance.now() - this.#lastDiscovery >= rediscoverMs
    ) {
      this.#lastDiscovery = performance.now()
      this.#discovering = this.#settings
        .discover()
        .then((found) => {
          for (const [key, value] of found) this.#discovered.set(key, value)
        })
        .finally(() => {
          this.#discovering = undefined
        })
    }
    await this.#discovering
    const after = this.#lookup(host, port, address)
    if (after !== undefined) return after
    throw unmappedNodeError(address, [...this.#discovered.keys()])
  }

  #lookup(host: string | undefined, port: number, address: string): number | undefined {
    const { natMap, servername, ports } = this.#settings
    if (host === servername && ports.includes(port)) return port
    if (typeof natMap === 'function') {
      const mapped = portOf(natMap(address))
      if (mapped !== undefined) return mapped
    } else if (natMap !== undefined) {
      const mapped = portOf(natMap[address])
      if (mapped !== undefined) return mapped
    }
    return this.#discovered.get(address)
  }
}

/**
 * The addresses a node announces for itself, from its CLUSTER NODES line flagged `myself`:
 * `ip:port@cport[,hostname]` gives `ip:port` and, with a hostname, `hostname:port`.
 */
export function announcedAddresses(clusterNodes: string): string[] {
  for (const line of clusterNodes.split('\n')) {
    const fields = line.trim().split(' ')
    if (fields.length < 3 || !fields[2]!.split(',').includes('myself')) continue
    const match = /^([^:@,]*):(\d+)(?:@\d+)?(?:,(.*))?$/.exec(fields[1]!)
    if (match === null) return []
    const [, ip, port, hostname] = match
    const addresses: string[] = []
    if (ip !== '' && ip !== undefined) addresses.push(`${ip}:${port}`)
    if (hostname !== undefined && hostname !== '') addresses.push(`${hostname}:${port}`)
    return addresses
  }
  return []
}
