import { PrivateLinkError } from '@privatelink/dns'

/** What a setting does to a connection that sits idle on the path. */
export type IdleSettingKind =
  /** A pool closes a connection idle this long (0: never). */
  | 'poolIdle'
  /** TCP keep-alive on or off. */
  | 'keepAlive'
  /** The idle time before the first keep-alive probe (0: the OS's, 7200 s on Linux). */
  | 'keepAliveDelay'
  /** How long an HTTP client keeps an idle socket for the next request. */
  | 'httpKeepAlive'

/** One setting the user passes, with where it came from (a flag or `pg.idleTimeoutMillis`). */
export interface IdleSetting {
  kind: IdleSettingKind
  /** How the report names it: `--pool-idle-timeout-ms`, `pg.idleTimeoutMillis`. */
  name: string
  /** Milliseconds, or for `keepAlive` whether it is on. */
  value: number | boolean
}

/** Settings that act on the same connections: the flags, or one adapter's options. */
export interface IdleSettingGroup {
  /** `the flags`, `pg`, `redis`... */
  label: string
  settings: IdleSetting[]
  /** Connections that stay open with no pool idle timeout at all (a Redis client). */
  longLived?: boolean
}

/**
 * The option names `--adapter-options` reads, per adapter: the options the user passes to our
 * adapters (which pass them to the driver). Other keys in the file are ignored, so a whole options
 * object can be dumped as it is; its other values (a password) are never read or printed.
 */
const ADAPTER_KEYS: Record<string, Record<string, IdleSettingKind>> = {
  pg: {
    idleTimeoutMillis: 'poolIdle',
    keepAlive: 'keepAlive',
    keepAliveInitialDelayMillis: 'keepAliveDelay',
  },
  mysql: {
    idleTimeout: 'poolIdle',
    enableKeepAlive: 'keepAlive',
    keepAliveInitialDelay: 'keepAliveDelay',
  },
  // ioredis: keepAlive is the delay before the first probe; 0 turns probes off.
  redis: { keepAlive: 'keepAliveDelay' },
  http: { keepAliveTimeoutMs: 'httpKeepAlive' },
  'aws-sdk': { keepAliveTimeoutMs: 'httpKeepAlive' },
}

/** The adapters `--adapter-options` knows, as its top-level keys. */
export const ADAPTER_NAMES = Object.keys(ADAPTER_KEYS)

const invalid = (message: string, hint: string) =>
  new PrivateLinkError('ERR_USAGE', message, { hint, details: { option: '--adapter-options' } })

/**
 * `--adapter-options` JSON text -> one group per adapter. The file: `{ "pg": { "idleTimeoutMillis":
 * 600000, "keepAlive": false }, "redis": { "keepAlive": 0 }, "http": { "keepAliveTimeoutMs":
 * 400000 } }`. A value of the wrong type is a usage error naming its key; the file's text is never
 * quoted (it may hold a password).
 */
export function parseAdapterOptions(text: string, file: string): IdleSettingGroup[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw invalid(
      `--adapter-options ${file} is not JSON`,
      `Pass a file holding an object keyed by adapter (${ADAPTER_NAMES.join(', ')}), e.g. {"pg": {"idleTimeoutMillis": 600000}}.`,
    )
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid(
      `--adapter-options ${file} holds no JSON object`,
      `Pass a file holding an object keyed by adapter (${ADAPTER_NAMES.join(', ')}).`,
    )
  const groups: IdleSettingGroup[] = []
  for (const [adapter, options] of Object.entries(parsed)) {
    const keys = ADAPTER_KEYS[adapter]
    if (keys === undefined)
      throw invalid(
        `--adapter-options ${file}: unknown adapter "${adapter.slice(0, 40)}"`,
        `Pass a file whose top-level keys are adapters: ${ADAPTER_NAMES.join(', ')}.`,
      )
    if (typeof options !== 'object' || options === null || Array.isArray(options))
      throw invalid(
        `--adapter-options ${file}: ${adapter} is not an object of options`,
        `Pass the options you give the ${adapter} adapter, e.g. {"${adapter}": {"${Object.keys(keys)[0]}": ...}}.`,
      )
    const settings: IdleSetting[] = []
    for (const [key, kind] of Object.entries(keys)) {
      const value = (options as Record<string, unknown>)[key]
      if (value === undefined) continue
      const ok =
        kind === 'keepAlive'
          ? typeof value === 'boolean'
          : typeof value === 'number' && Number.isInteger(value) && value >= 0
      if (!ok)
        throw invalid(
          `--adapter-options ${file}: ${adapter}.${key} must be ${kind === 'keepAlive' ? 'true or false' : 'a whole number of milliseconds, 0 or more'}`,
          `Pass a file with ${adapter}.${key} fixed.`,
        )
      settings.push({ kind, name: `${adapter}.${key}`, value: value as number | boolean })
    }
    groups.push({ label: adapter, settings, ...(adapter === 'redis' ? { longLived: true } : {}) })
  }
  return groups
}
