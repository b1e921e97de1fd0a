import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { fetchOptions } from '@privatelink/http'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API, type HttpLab, startHttpLab } from './http-lab.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const dir = `${root}.tmp/http-fetch-types/`

/** tsc's diagnostics per snippet, strict + exactOptionalPropertyTypes, nodenext, with or without the DOM lib: one program. */
function diagnose(snippets: Record<string, string>, dom: boolean): Record<string, string[]> {
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}package.json`, '{"type":"module"}')
  const files = Object.entries(snippets).map(([name, text]) => {
    const file = `${dir}${name}-${dom ? 'dom' : 'node'}.ts`
    writeFileSync(file, text)
    return [name, file] as const
  })
  const source = (name: string) => [`${root}packages/${name}/src/index.ts`]
  const program = ts.createProgram(
    files.map(([, file]) => file),
    {
      strict: true,
      exactOptionalPropertyTypes: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: dom ? ['lib.es2023.d.ts', 'lib.dom.d.ts'] : ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [`${root}node_modules/@types`],
      skipLibCheck: true,
      noEmit: true,
      paths: {
        '@privatelink/http': source('http'),
        '@privatelink/core': source('core'),
        '@privatelink/dns': source('dns'),
        '@privatelink/base': source('base'),
      },
    },
  )
  return Object.fromEntries(
    files.map(([name, file]) => [
      name,
      ts
        .getPreEmitDiagnostics(program, program.getSourceFile(file))
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0] ?? ''),
    ]),
  )
}

const snippet = (
  call: string,
) => `import { createEndpointDispatcher, fetchOptions } from '@privatelink/http'
import { endpointFromEnv } from '@privatelink/core'
const dispatcher = createEndpointDispatcher({ endpoint: endpointFromEnv() })
void fetchOptions
export const response: Response = await ${call}
`

describe('fetchOptions: the dispatcher for Node global fetch, typed', () => {
  it.each([
    ['with the DOM lib', true],
    ['without it (undici-types RequestInit)', false],
  ])(
    'type-checks %s under strict + exactOptionalPropertyTypes, where a bare dispatcher does not',
    (_, dom) => {
      const found = diagnose(
        {
          post: snippet(
            "fetch('https://api.example.com/', fetchOptions(dispatcher, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }))",
          ),
          get: snippet("fetch('https://api.example.com/', fetchOptions(dispatcher))"),
          // The user's cast this replaces: TypeScript refuses the dispatcher as it is.
          bare: snippet("fetch('https://api.example.com/', { dispatcher })"),
        },
        dom,
      )
      expect(found['post']).toEqual([])
      expect(found['get']).toEqual([])
      expect(found['bare']).not.toEqual([])
    },
    120_000,
  )
})

describe('fetchOptions at run time', () => {
  let env: HttpLab
  beforeAll(async () => {
    env = await startHttpLab()
  })
  afterAll(() => env.close())

  it("Node's global fetch sends through the dispatcher: own zone, TLS against the service name", async () => {
    const dispatcher = env.dispatcherFor()
    try {
      const before = env.accepted('us-west-2a')
      const response = await fetch(
        `https://${API}/global-fetch`,
        fetchOptions(dispatcher, { method: 'POST', body: 'hello' }),
      )
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({
        host: API,
        path: '/global-fetch',
        body: 'hello',
      })
      expect(env.accepted('us-west-2a') - before).toBe(1)
      expect(dispatcher.connectionsPerZone()).toEqual({ 'usw2-az1': 1 })
    } finally {
      await dispatcher.close()
    }
  })

  it('refuses what is not a dispatcher', () => {
    expect(() => fetchOptions({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
  })
})
