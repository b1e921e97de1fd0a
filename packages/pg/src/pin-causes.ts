/**
 * Why a statement would pin an RDS Proxy session (PostgreSQL): the proxy then keeps the client's
 * connection on one database connection until it closes, and multiplexing is gone. After AWS's
 * "Avoiding pinning an RDS Proxy" (conditions for all engines and for RDS for PostgreSQL):
 * - `set`: `SET` / `SET SESSION` / `RESET` / `set_config(..., false)` (a session setting; `SET
 *   LOCAL`, `SET TRANSACTION`, `SET CONSTRAINTS` and `set_config(..., true)` last one transaction);
 * - `named-statement`: the extended protocol with a named statement (pg's `query({ name })`);
 * - `prepared-statement`: SQL `PREPARE` / `EXECUTE` / `DEALLOCATE`;
 * - `temporary-object`: a temporary table, sequence or view;
 * - `cursor`: `DECLARE ... CURSOR`; `discard`: `DISCARD`; `listen`: `LISTEN`; `load`: `LOAD`;
 * - `sequence-function`: `nextval`, `setval`, `currval`, `lastval`;
 * - `advisory-lock`: session-level advisory locks (the `_xact_` ones end with the transaction);
 * - `large-statement`: statement text over 16 KB.
 */
export type PinCause =
  | 'set'
  | 'named-statement'
  | 'prepared-statement'
  | 'temporary-object'
  | 'cursor'
  | 'discard'
  | 'listen'
  | 'load'
  | 'sequence-function'
  | 'advisory-lock'
  | 'large-statement'

/** RDS Proxy pins any statement whose text is over 16 KB. */
const LARGE_BYTES = 16_384

/** Per statement (lower case, literals and comments blanked): which cause it matches. */
const RULES: readonly (readonly [PinCause, RegExp])[] = [
  ['set', /^(set\s+(?!(local|transaction|constraints)\b)|reset\b)/],
  ['prepared-statement', /^(prepare\s+(?!transaction\b)|execute\s|deallocate\b)/],
  [
    'temporary-object',
    /^create\s+(or\s+replace\s+)?((global|local)\s+)?temp(orary)?\s+(recursive\s+)?(table|sequence|view)\b|\binto\s+temp(orary)?\b/,
  ],
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

/**
 * The causes one query would pin for, in the order RDS Proxy would see them (the text's size
 * first: the proxy does not read a statement over 16 KB). Empty for a statement that multiplexes.
 */
export function pinCauses(text: string, named: boolean): PinCause[] {
  const causes: PinCause[] = []
  if (text.length * 3 > LARGE_BYTES && Buffer.byteLength(text, 'utf8') > LARGE_BYTES)
    causes.push('large-statement')
  if (named) causes.push('named-statement')
  for (const statement of statementsOf(text)) {
    for (const [cause, pattern] of RULES)
      if (!causes.includes(cause) && pattern.test(statement)) causes.push(cause)
    if (!causes.includes('set') && setsSessionConfig(statement)) causes.push('set')
  }
  return causes
}

/** `set_config(name, value, is_local)` with is_local anything but `true` is session state. */
function setsSessionConfig(statement: string): boolean {
  const at = statement.indexOf('set_config')
  if (at === -1) return false
  for (const call of statement.slice(at).matchAll(/\bset_config\s*\(([^()]*)(\)|\()/g)) {
    // A nested call in the arguments: is_local cannot be read, so it counts.
    if (call[2] === '(') return true
    if (call[1]!.split(',').at(-1)!.trim() !== 'true') return true
  }
  return false
}

/**
 * The statements of a query text, lower case, whitespace collapsed, with string literals,
 * quoted identifiers and comments blanked (a `SET` inside a literal is data, not a setting).
 */
export function statementsOf(text: string): string[] {
  const statements: string[] = []
  let current = ''
  let index = 0
  const length = text.length
  while (index < length) {
    const char = text[index]!
    const next = text[index + 1]
    if (char === '-' && next === '-') {
      const end = text.indexOf('\n', index)
      index = end === -1 ? length : end + 1
      current += ' '
    } else if (char === '/' && next === '*') {
      index = skipBlockComment(text, index)
      current += ' '
    } else if (char === "'") {
      const escapes = /[eE]$/.test(current) && !/\w[eE]$/.test(current)
      index = skipQuoted(text, index, "'", escapes)
      current += "''"
    } else if (char === '"') {
      index = skipQuoted(text, index, '"', false)
      current += '""'
    } else if (char === '$' && !/\w$/.test(current)) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(index, index + 64))
      if (tag === null) {
        current += char
        index++
      } else {
        const end = text.indexOf(tag[0], index + tag[0].length)
        index = end === -1 ? length : end + tag[0].length
        current += "''"
      }
    } else if (char === ';') {
      statements.push(current)
      current = ''
      index++
    } else {
      current += char
      index++
    }
  }
  statements.push(current)
  return statements
    .map((statement) => statement.toLowerCase().replace(/\s+/g, ' ').trim())
    .filter((statement) => statement !== '')
}

function skipBlockComment(text: string, start: number): number {
  let depth = 0
  let index = start
  while (index < text.length) {
    if (text.startsWith('/*', index)) {
      depth++
      index += 2
    } else if (text.startsWith('*/', index)) {
      depth--
      index += 2
      if (depth === 0) return index
    } else index++
  }
  return index
}

/** Past the closing quote; a doubled quote is part of the text, and with E'' so is `\'`. */
function skipQuoted(text: string, start: number, quote: string, escapes: boolean): number {
  let index = start + 1
  while (index < text.length) {
    const char = text[index]
    if (escapes && char === '\\') index += 2
    else if (char === quote) {
      if (text[index + 1] === quote) index += 2
      else return index + 1
    } else index++
  }
  return index
}
