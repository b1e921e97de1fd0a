import { scanSql } from './pg-sql-scan.js'

/**
 * Why RDS Proxy pinned a PostgreSQL session, after AWS's "Avoiding pinning an RDS Proxy"
 * (conditions for all engines, and for RDS for PostgreSQL):
 * - `set`: `SET`, `SET SESSION`, `RESET`, `set_config(..., false)`: a session setting changed.
 *   `SET LOCAL`, `SET TRANSACTION`, `SET CONSTRAINTS` and `set_config(..., true)` last one
 *   transaction and do not pin.
 * - `prepared-statement`: SQL `PREPARE`, `EXECUTE`, `DEALLOCATE`.
 * - `named-statement`: the extended protocol with a named statement (a Parse message with a
 *   name; pg's `query({ name })`). Unnamed statements are multiplexed since November 2023.
 * - `unnamed-statement`: any Parse message, only with `pinUnnamedStatements` (RDS Proxy before
 *   November 2023: "A parse message was detected.").
 * - `temporary-object`: `CREATE TEMP TABLE / SEQUENCE / VIEW`, `SELECT ... INTO TEMP`.
 * - `cursor`: `DECLARE ... CURSOR`.
 * - `discard`: `DISCARD ...`.
 * - `listen`: `LISTEN`.
 * - `load`: `LOAD 'module'`.
 * - `sequence-function`: `nextval`, `setval`, `currval`, `lastval`.
 * - `advisory-lock`: session-level advisory lock functions (`pg_advisory_lock`,
 *   `pg_try_advisory_lock`, their `_shared` forms, `pg_advisory_unlock*`); the `_xact_` ones end
 *   with the transaction and do not pin.
 * - `large-statement`: statement text over 16 KB (16384 bytes).
 */
export type PinCause =
  | 'set'
  | 'prepared-statement'
  | 'named-statement'
  | 'unnamed-statement'
  | 'temporary-object'
  | 'cursor'
  | 'discard'
  | 'listen'
  | 'load'
  | 'sequence-function'
  | 'advisory-lock'
  | 'large-statement'

/** One cause found in what a client sent, with the digest of the SQL it came from. */
export interface PinFinding {
  /** Why the session pins. */
  cause: PinCause
  /** The SQL with literals replaced by `$n` (never a literal value); '' for protocol causes. */
  digest: string
}

/** "Any statement with a text size greater than 16 KB causes the proxy to pin the session." */
export const LARGE_STATEMENT_BYTES = 16_384

const statementRules: [PinCause, RegExp][] = [
  ['set', /^set\s+(?!local\b|transaction\b|constraints\b)/],
  ['set', /^reset\b/],
  ['prepared-statement', /^(prepare\s+(?!transaction\b)|execute\s|deallocate\b)/],
  [
    'temporary-object',
    /^create\s+(or\s+replace\s+)?((global|local)\s+)?(temp|temporary)\s+(recursive\s+)?(table|sequence|view)\b/,
  ],
  ['temporary-object', /\binto\s+(temp|temporary)\b/],
  ['cursor', /^declare\b/],
  ['discard', /^discard\b/],
  ['listen', /^listen\b/],
  ['load', /^load\b/],
  ['sequence-function', /\b(nextval|setval|currval|lastval)\s*\(/],
  [
    'advisory-lock',
    /\bpg_(try_)?advisory_(lock|unlock)(_shared)?\s*\(|\bpg_advisory_unlock_all\s*\(/,
  ],
]

// set_config(name, value, is_local): only is_local = false (or an unknown value) is session state.
function setConfigPins(statement: string): boolean {
  for (const match of statement.matchAll(/\bset_config\s*\(([^()]*)\)/g)) {
    const isLocal = match[1]!.split(',').at(-1)!.trim()
    if (isLocal !== 'true') return true
  }
  // Nested calls in the arguments: cannot tell, so count it as a setting.
  return /\bset_config\s*\((?=[^)]*\()/.test(statement)
}

/** The pinning causes in one SQL text (a simple Query's, or a Parse message's), in order. */
export function sqlPinCauses(sql: string): PinFinding[] {
  const findings: PinFinding[] = []
  const { statements, digest } = scanSql(sql)
  for (const statement of statements) {
    for (const [cause, pattern] of statementRules)
      if (pattern.test(statement) && !findings.some((f) => f.cause === cause))
        findings.push({ cause, digest })
    if (setConfigPins(statement) && !findings.some((f) => f.cause === 'set'))
      findings.push({ cause: 'set', digest })
  }
  if (Buffer.byteLength(sql, 'utf8') > LARGE_STATEMENT_BYTES)
    findings.push({ cause: 'large-statement', digest })
  return findings
}

/**
 * The reason RDS Proxy's log line gives. `set` and `unnamed-statement` are RDS Proxy's words as
 * users report them; the others are the lab's, in the same style.
 */
export function pinReason(finding: PinFinding): string {
  const digest = finding.digest === '' ? '' : ` Digest: "${finding.digest}".`
  switch (finding.cause) {
    case 'set':
      return `SQL changed session settings that the proxy doesn't track. Consider moving session configuration to the proxy's initialization query.${digest}`
    case 'unnamed-statement':
      return 'A parse message was detected.'
    case 'named-statement':
      return 'A parse message with a named prepared statement was detected.'
    case 'prepared-statement':
      return `A prepared statement was created, executed or deallocated with SQL.${digest}`
    case 'temporary-object':
      return `A temporary table, sequence or view was created.${digest}`
    case 'cursor':
      return `A cursor was declared.${digest}`
    case 'discard':
      return `The session state was discarded.${digest}`
    case 'listen':
      return `The session listens on a notification channel.${digest}`
    case 'load':
      return `A library module was loaded.${digest}`
    case 'sequence-function':
      return `A sequence was manipulated with a sequence function.${digest}`
    case 'advisory-lock':
      return `A session-level advisory lock function was called.${digest}`
    case 'large-statement':
      return `The connection ran a SQL query which exceeded the ${LARGE_STATEMENT_BYTES} byte limit.`
  }
}

/** RDS Proxy's log line for a pinned session. */
export const pinnedMessage = (databaseConnection: number, finding: PinFinding) =>
  `The client session was pinned to the database connection [dbConnection=${databaseConnection}] for the remainder of the session. The proxy can't reuse this connection until the session ends. Reason: ${pinReason(finding)}`
