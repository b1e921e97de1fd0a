import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

/** Node's own codes that we map from or compare against, not ours. */
const FOREIGN = ['ERR_TLS', 'ERR_TLS_CERT_ALTNAME_INVALID']

/** Every quoted `ERR_*` code in a package's source: raised, or compared against. */
function codesOf(pkg: string): Set<string> {
  const codes = new Set<string>()
  for (const file of sources(join(root, 'packages', pkg, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/'(ERR_[A-Z0-9_]+)'/g))
      codes.add(match[1]!)
  }
  for (const foreign of FOREIGN) codes.delete(foreign)
  return codes
}

/**
 * The rows of a README's `## Errors` table: the codes in a row's first cell, mapped to its last
 * cell (the hint). A code named only in prose does not count.
 */
function errorsTable(pkg: string): Map<string, string> {
  const readme = readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8')
  const start = readme.search(/^## Errors$/m)
  expect(start, `packages/${pkg}/README.md has a "## Errors" section`).toBeGreaterThanOrEqual(0)
  const rest = readme.slice(start + 1)
  const end = rest.search(/^## /m)
  const section = end === -1 ? rest : rest.slice(0, end)
  const rows = new Map<string, string>()
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) continue
    const cells = line.split('|').slice(1, -1)
    if (cells.length < 2) continue
    const hint = cells.at(-1)!.trim()
    for (const match of cells[0]!.matchAll(/`(ERR_[A-Z0-9_]+)`/g)) rows.set(match[1]!, hint)
  }
  return rows
}

/** Codes from `codes` that neither table lists with a non-empty hint. */
function undocumented(codes: Iterable<string>, ...tables: Map<string, string>[]): string[] {
  return [...codes].filter((code) => !tables.some((table) => (table.get(code) ?? '') !== ''))
}

describe('error codes', () => {
  const core = errorsTable('core')

  it('every code dns, core and http raise is in the core README table, with a hint', () => {
    const codes = new Set(['dns', 'core', 'http'].flatMap((pkg) => [...codesOf(pkg)]))
    expect(codes.size).toBeGreaterThan(15)
    expect(undocumented(codes, core)).toEqual([])
  })

  // An adapter's codes are in its own README; codes it passes on from core (ERR_INVALID_OPTION,
  // ERR_ENDPOINT_UNREACHABLE, ERR_TLS_UNTRUSTED...) may be documented in core's table instead.
  it.each([
    { pkg: 'pg', prefix: 'ERR_PG_', internal: [], atLeast: 15 },
    { pkg: 'redis', prefix: 'ERR_REDIS_', internal: [], atLeast: 8 },
    { pkg: 'mysql', prefix: 'ERR_MYSQL_', internal: [], atLeast: 8 },
    { pkg: 'metrics', prefix: 'ERR_METRICS_', internal: [], atLeast: 1 },
    { pkg: 'aws-sdk', prefix: undefined, internal: [], atLeast: 3 },
    // The doctor's TLS probe tags a plain Error with ERR_NO_TLS to pick a check's fix text: the
    // user sees the check, not the code. ERR_PG_TLS_REFUSED is pg's (in pg's table), which the
    // probe compares against to pick that text.
    // ERR_MODULE_NOT_FOUND / ERR_LOAD: Node's code for a failed import() of the optional policy
    // simulator, and the fallback when a failure has none; read, never raised.
    {
      pkg: 'cli',
      prefix: undefined,
      internal: ['ERR_NO_TLS', 'ERR_PG_TLS_REFUSED', 'ERR_MODULE_NOT_FOUND', 'ERR_LOAD'],
      atLeast: 2,
    },
  ])(
    'every code $pkg raises is in its README errors table (or core’s), with a hint',
    ({ pkg, prefix, internal, atLeast }) => {
      const own = errorsTable(pkg)
      const codes = codesOf(pkg)
      for (const code of internal)
        expect(codes.delete(code), `${pkg} still uses ${code}`).toBe(true)
      expect(codes.size).toBeGreaterThanOrEqual(atLeast)
      expect(undocumented(codes, own, core)).toEqual([])
      // The package's own codes (ERR_PG_*, ERR_REDIS_*) belong in its own table, not only core's.
      if (prefix !== undefined)
        expect(
          undocumented(
            [...codes].filter((code) => code.startsWith(prefix)),
            own,
          ),
        ).toEqual([])
      // Every row of its own table says what to check.
      expect([...own].filter(([, hint]) => hint === '').map(([code]) => code)).toEqual([])
    },
  )

  it('every code in a README errors table is one some package raises', () => {
    const raised = new Set(
      ['base', 'dns', 'core', 'http', 'aws-sdk', 'pg', 'redis', 'mysql', 'metrics', 'cli'].flatMap(
        (pkg) => [...codesOf(pkg)],
      ),
    )
    const stale = ['core', 'aws-sdk', 'pg', 'redis', 'cli'].flatMap((pkg) =>
      [...errorsTable(pkg).keys()].filter((code) => !raised.has(code)).map((c) => `${pkg}: ${c}`),
    )
    expect(stale).toEqual([])
  })
})
