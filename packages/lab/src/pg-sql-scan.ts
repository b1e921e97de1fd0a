/** SQL text as a proxy classifies it: comments gone, literals replaced, split into statements. */
export interface ScannedSql {
  /**
   * Each statement, lower-cased outside quoted identifiers, whitespace collapsed, every string,
   * dollar-quoted and numeric literal and every `$n` parameter replaced by `$1`, `$2`... in order.
   */
  statements: string[]
  /** The statements joined as RDS Proxy's log digests them: `set search_path = $1; set names $2;`. */
  digest: string
}

const isIdentifierChar = (char: string | undefined) =>
  char !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(char)

/**
 * Scans PostgreSQL SQL without parsing it: enough to find statement boundaries and leading
 * keywords, and to digest it with no literal value in it (a literal may be a secret).
 */
export function scanSql(text: string): ScannedSql {
  const statements: string[] = []
  let current = ''
  let placeholders = 0
  const placeholder = () => {
    placeholders++
    current += `$${placeholders}`
  }
  const space = () => {
    if (current !== '' && !current.endsWith(' ')) current += ' '
  }
  let i = 0
  while (i < text.length) {
    const char = text[i]!
    const next = text[i + 1]
    if (char === '-' && next === '-') {
      const end = text.indexOf('\n', i)
      i = end < 0 ? text.length : end + 1
      space()
    } else if (char === '/' && next === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 1
      i += 2
      while (i < text.length && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++
          i += 2
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--
          i += 2
        } else i++
      }
      space()
    } else if (char === "'") {
      // E'...' strings take backslash escapes; a prefix letter (E, B, X, U&, N) was already copied.
      const escapes = /(^|[^A-Za-z0-9_])e$/i.test(current)
      if (/(^|[^A-Za-z0-9_])(e|b|x|n|u&)$/i.test(current))
        current = current.replace(/(e|b|x|n|u&)$/i, '')
      i++
      while (i < text.length) {
        if (escapes && text[i] === '\\') i += 2
        else if (text[i] === "'" && text[i + 1] === "'") i += 2
        else if (text[i] === "'") break
        else i++
      }
      i++
      placeholder()
    } else if (char === '"') {
      const end = text.indexOf('"', i + 1)
      const stop = end < 0 ? text.length : end + 1
      current += text.slice(i, stop)
      i = stop
    } else if (char === '$' && !isIdentifierChar(current.at(-1))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))
      const parameter = /^\$\d+/.exec(text.slice(i))
      if (tag !== null) {
        const close = text.indexOf(tag[0], i + tag[0].length)
        i = close < 0 ? text.length : close + tag[0].length
        placeholder()
      } else if (parameter !== null) {
        i += parameter[0].length
        placeholder()
      } else {
        current += char
        i++
      }
    } else if (/[0-9]/.test(char) && !isIdentifierChar(current.at(-1))) {
      const number = /^(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?/i.exec(text.slice(i))!
      i += number[0].length
      placeholder()
    } else if (char === ';') {
      if (current.trim() !== '') statements.push(current.trim())
      current = ''
      i++
    } else if (/\s/.test(char)) {
      space()
      i++
    } else {
      current += char.toLowerCase()
      i++
    }
  }
  if (current.trim() !== '') statements.push(current.trim())
  return { statements, digest: statements.map((statement) => `${statement};`).join(' ') }
}
