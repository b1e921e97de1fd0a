import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = new URL('../', import.meta.url)
const path = (relative: string) => fileURLToPath(new URL(relative, root))

export interface LambdaBundle {
  entry: string
  bytes: number
  /** Input files by package (node_modules name, or the workspace package), bytes in the output. */
  packages: Record<string, number>
  containsClientEc2: boolean
  markdown: string
}

const packageOf = (input: string): string => {
  const parts = input.split('node_modules/')
  const last = parts.at(-1)!
  if (parts.length > 1) {
    const segments = last.split('/')
    return segments[0]!.startsWith('@') ? `${segments[0]}/${segments[1]}` : segments[0]!
  }
  const workspace = input.match(/packages\/([^/]+)\//)
  return workspace === null ? 'the example' : `@privatelink/${workspace[1]} (workspace)`
}

/**
 * The Lambda example bundled as a deployment would be (esbuild, minified, Node 22, everything
 * inlined: the SDK is not left to the runtime's copy), against the built @privatelink packages.
 */
export async function lambdaBundle(): Promise<LambdaBundle> {
  const entry = 'examples/lambda-cross-account-db/handler.ts'
  if (!existsSync(path(entry))) throw new Error(`${entry} is missing`)
  if (!existsSync(path('packages/pg/dist/index.js')))
    throw new Error('run `pnpm build` first: the bundle uses the built @privatelink/pg')
  const result = await build({
    entryPoints: [path(entry)],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // As the example's README builds it: the ESM bundle needs a `require` for the CommonJS inside
    // it (pg), or its first query fails with "Dynamic require of 'events' is not supported".
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    write: false,
    metafile: true,
    logLevel: 'silent',
    // pg's optional native binding is never installed in a Lambda bundle.
    external: ['pg-native'],
    // The examples workspace does not list @privatelink/pg and the SDK's credential providers (a
    // copy of the example does): resolve them from @privatelink/pg's own folder.
    nodePaths: [path('packages/pg/node_modules'), path('packages')],
    alias: { '@privatelink/pg': path('packages/pg') },
  })
  const output = Object.values(result.metafile.outputs)[0]!
  const packages: Record<string, number> = {}
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input)
    packages[name] = (packages[name] ?? 0) + bytesInOutput
  }
  const containsClientEc2 = Object.keys(output.inputs).some((input) => input.includes('client-ec2'))
  const top = Object.entries(packages)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KiB`)
    .join(', ')
  const markdown = [
    `\`${entry}\` bundled with esbuild (minified, ESM, node22, all dependencies inlined): **${(output.bytes / 1024).toFixed(0)} KiB**; @aws-sdk/client-ec2 in it: **${containsClientEc2 ? 'yes' : 'no'}** (checked by input file in esbuild's metafile).`,
    '',
    `Largest parts: ${top}.`,
  ].join('\n')
  return { entry, bytes: output.bytes, packages, containsClientEc2, markdown }
}
