import type { ConnectorConfig } from './connector-options.js'

/** What the registry hands back: the shared thing, and the way to let go of it (idempotent). */
export interface HealthLease<T> {
  readonly state: T
  release(): void
}

interface Entry<T> {
  state: T
  refs: number
  dispose: (state: T) => void
}

/**
 * Zone health shared per endpoint in one process (`createConnector`'s `healthRegistry`): every
 * connector of the same endpoint, with the same options that define health, shares one zone
 * table and one set of health checks. Entries are reference-counted and dropped when their last
 * connector closes (or is garbage-collected unclosed), so nothing outlives its connectors; a
 * test that wants isolation passes its own `new HealthRegistry()`.
 */
export class HealthRegistry {
  readonly #entries = new Map<string, Entry<unknown>>()
  readonly #ids = new WeakMap<object, number>()
  #nextId = 0
  readonly #finalizer = new FinalizationRegistry<() => void>((release) => release())

  /** Endpoints with live shared state (for tests and diagnostics). */
  get size(): number {
    return this.#entries.size
  }

  /**
   * The state for `key`, made by `create` when none is live; `owner` (the connector) releases its
   * lease when garbage-collected without `close()`.
   * @internal
   */
  acquire<T>(
    key: string,
    owner: object,
    create: () => T,
    dispose: (state: T) => void,
  ): HealthLease<T> {
    let entry = this.#entries.get(key) as Entry<T> | undefined
    if (entry === undefined) {
      entry = { state: create(), refs: 0, dispose }
      this.#entries.set(key, entry as Entry<unknown>)
    }
    entry.refs++
    const held = entry
    let released = false
    const token = {}
    const release = () => {
      if (released) return
      released = true
      this.#finalizer.unregister(token)
      if (--held.refs > 0 || this.#entries.get(key) !== held) return
      this.#entries.delete(key)
      held.dispose(held.state)
    }
    this.#finalizer.register(owner, release, token)
    return { state: held.state, release }
  }

  /**
   * The key of what defines health semantics: the targets (endpoint IDs, zones, addresses, TLS
   * names), the ejection and health-check options, and the clock, dial, resolver and check
   * handshake by identity. Two connectors with the same key share one health state.
   * @internal
   */
  keyOf(config: ConnectorConfig): string {
    const id = (value: unknown) =>
      value === undefined
        ? '-'
        : typeof value === 'object' || typeof value === 'function'
          ? this.#idOf(value as object)
          : String(value)
    const targets = config.targets.map((target) => ({
      id: target.endpoint.id,
      region: target.region,
      tls: target.tls?.servername,
      zones: target.endpoint.zones.map((zone) => [
        zone.azName,
        zone.azId,
        zone.dnsName,
        zone.addresses,
        zone.portMap,
        zone.cidrs,
      ]),
    }))
    const { intervalMs, timeoutMs, handshake } = config.healthCheck
    return JSON.stringify([
      targets,
      config.zoneHealth,
      [intervalMs, timeoutMs, id(handshake)],
      [id(config.clock), id(config.dial), id(config.resolver), config.allowedRanges],
    ])
  }

  #idOf(value: object): number {
    let id = this.#ids.get(value)
    if (id === undefined) {
      id = ++this.#nextId
      this.#ids.set(value, id)
    }
    return id
  }
}

/** The process-wide registry: entries live only while a connector holds them. */
export const processHealthRegistry = new HealthRegistry()
