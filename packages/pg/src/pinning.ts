import { invalidOption, PrivateLinkError } from '@privatelink/core'
import { pinningChannel } from './diagnostics.js'
import { type PinCause, pinCauses } from './pin-causes.js'

/**
 * What to do with a statement that would pin the RDS Proxy session: `'ignore'` (nothing is
 * checked), `'warn'` (a process warning once per cause per pool, plus the diagnostics channel and
 * the pool's counts), `'error'` (the statement is not sent: it rejects with ERR_PG_PINNING).
 */
export type PinningMode = 'ignore' | 'warn' | 'error'

/** What to do instead, per cause. */
const HINTS: Record<PinCause, string> = {
  set: "Move session settings into the proxy's initialization query (InitQuery), or use SET LOCAL inside a transaction (it ends with the transaction).",
  'named-statement':
    'Drop `name` from query(): unnamed parameterised statements (query(text, values)) are multiplexed; named ones pin.',
  'prepared-statement':
    'Use parameterised queries (query(text, values)) instead of SQL PREPARE / EXECUTE / DEALLOCATE.',
  'temporary-object':
    'Use a CTE (WITH ...) or an ordinary table instead of a temporary table, sequence or view.',
  cursor: 'Page with keyset pagination (WHERE id > $1 ORDER BY id LIMIT n) instead of a cursor.',
  discard: 'Remove DISCARD: the proxy resets its database connections itself.',
  listen:
    'Run LISTEN on a dedicated connection straight to the database (not through the proxy), or poll.',
  load: 'Load modules through the parameter group (shared_preload_libraries) instead of LOAD.',
  'sequence-function':
    'Let the table fill its key (identity or DEFAULT) and read it with RETURNING instead of nextval / currval.',
  'advisory-lock':
    'Use the transaction-level lock (pg_advisory_xact_lock) inside a transaction: it is released at COMMIT and does not pin.',
  'large-statement':
    'Keep statements under 16 KB: pass data as parameters, or split large batches.',
}

/** Only so many distinct texts are remembered (their verdicts); past that they are checked again. */
const MAX_CACHED = 1_000

/** A client's part in the checks: the statement names it has already parsed. */
export interface PinningClient {
  readonly namedStatements: Set<string>
  readonly stream: { zone: string | undefined; servername: string }
}

/** One pool's (or client's) pinning checks and counts. */
export class PinningMonitor {
  readonly #mode: Exclude<PinningMode, 'ignore'>
  readonly #user: string
  readonly #verdicts = new Map<string, readonly PinCause[]>()
  readonly #warned = new Set<PinCause>()
  readonly counts: Partial<Record<PinCause, number>> = {}

  constructor(mode: Exclude<PinningMode, 'ignore'>, user: string) {
    this.#mode = mode
    this.#user = user
  }

  /**
   * Checks what pg's `query(...)` got first (text, or a config with `text` and `name`); returns
   * the error to reject with in 'error' mode.
   */
  check(query: unknown, client: PinningClient): PrivateLinkError | undefined {
    let text: unknown = query
    let name: unknown
    if (typeof query === 'object' && query !== null) {
      text = (query as { text?: unknown }).text
      name = (query as { name?: unknown }).name
    }
    if (typeof text !== 'string') return undefined
    let causes = this.#verdicts.get(text)
    if (causes === undefined) {
      causes = pinCauses(text, false)
      if (this.#verdicts.size < MAX_CACHED) this.#verdicts.set(text, causes)
    }
    // pg parses a named statement once per connection, and only that Parse pins.
    const named = typeof name === 'string' && name !== '' && !client.namedStatements.has(name)
    if (causes.length === 0 && !named) return undefined
    const all: readonly PinCause[] = named ? ['named-statement', ...causes] : causes
    const refuse = this.#mode === 'error'
    for (const cause of all)
      this.#found(cause, client, named ? (name as string) : undefined, !refuse)
    if (refuse) return pinningError(all[0]!, client.stream.servername)
    if (named) client.namedStatements.add(name as string)
    return undefined
  }

  #found(
    cause: PinCause,
    client: PinningClient,
    statementName: string | undefined,
    warn: boolean,
  ): void {
    this.counts[cause] = (this.counts[cause] ?? 0) + 1
    const hint = HINTS[cause]
    if (pinningChannel.hasSubscribers)
      pinningChannel.publish({
        cause,
        hint,
        proxyHost: client.stream.servername,
        user: this.#user,
        zone: client.stream.zone ?? null,
        ...(cause === 'named-statement' && statementName !== undefined ? { statementName } : {}),
      })
    if (!warn || this.#warned.has(cause)) return
    this.#warned.add(cause)
    process.emitWarning(
      `privatelink/pg: a statement pins the RDS Proxy session (${cause}): the proxy keeps this connection on one database connection until it closes. ${hint}`,
      { code: 'PRIVATELINK_PG_PINNING' },
    )
  }
}

function pinningError(cause: PinCause, proxyHost: string): PrivateLinkError {
  return new PrivateLinkError(
    'ERR_PG_PINNING',
    `Not sent: the statement would pin the RDS Proxy session for ${proxyHost} (${cause})`,
    { hint: `${HINTS[cause]} Or set pinning: 'warn' to allow it.`, details: { cause, proxyHost } },
  )
}

/** The `pinning` option, checked: a monitor, or undefined for 'ignore'. @default 'warn' */
/**
 * The user a pinning warning names. Read before the options are validated (that happens in the
 * connection plan), so any value must do: an object without a primitive form made String() throw.
 */
export function userLabel(user: unknown): string {
  return typeof user === 'string' ? user : ''
}

export function pinningOf(value: unknown, user: string): PinningMonitor | undefined {
  const mode = value ?? 'warn'
  if (mode !== 'ignore' && mode !== 'warn' && mode !== 'error')
    throw invalidOption('pinning', "'ignore', 'warn' or 'error'", value)
  return mode === 'ignore' ? undefined : new PinningMonitor(mode, user)
}
