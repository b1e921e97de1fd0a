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

describe('error codes', () => {
  it('every code a package raises is in the core README table, with a hint', () => {
    const readme = readFileSync(join(root, 'packages/core/README.md'), 'utf8')
    const codes = new Set<string>()
    for (const pkg of ['dns', 'core', 'http']) {
      for (const file of sources(join(root, 'packages', pkg, 'src'))) {
        for (const match of readFileSync(file, 'utf8').matchAll(/'(ERR_[A-Z_]+)'/g))
          codes.add(match[1]!)
      }
    }
    // Node's own codes that we map from, not ours.
    for (const foreign of ['ERR_TLS', 'ERR_TLS_CERT_ALTNAME_INVALID']) codes.delete(foreign)
    expect(codes.size).toBeGreaterThan(15)
    const missing = [...codes].filter((code) => !readme.includes(`\`${code}\``))
    expect(missing).toEqual([])
  })
})
