import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { compareTimed, type Timed, type TimedComparison, timedTable } from './measure.js'

const run = promisify(execFile)
const root = new URL('../', import.meta.url)
const dist = (pkg: string) => fileURLToPath(new URL(`packages/${pkg}/dist/index.cjs`, root))
/** A dependency as the package itself resolves it: the copy it would load. */
const dependencyOf = (pkg: string, name: string) =>
  createRequire(new URL(`packages/${pkg}/package.json`, root)).resolve(name)

/** What a fresh process reports after requiring the modules. */
interface ImportRound {
  ms: number
  /** Loaded CommonJS files of @aws-sdk/client-ec2 (must be 0 for the Lambda path). */
  clientEc2Files: number
}

/**
 * `require()` of the given files in a fresh Node process, timed inside it (process start-up is
 * the same for every variant and left out). CommonJS entries, as a Lambda bundle loads them.
 */
async function coldRequire(files: string[]): Promise<Timed> {
  const script = `const t = performance.now();
for (const f of ${JSON.stringify(files)}) require(f);
const ms = performance.now() - t;
const clientEc2Files = Object.keys(require.cache).filter((k) => k.includes('client-ec2')).length;
console.log(JSON.stringify({ ms, clientEc2Files }));`
  const { stdout } = await run(process.execPath, ['--no-warnings', '-e', script], {
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  const round = JSON.parse(stdout.trim().split('\n').at(-1)!) as ImportRound
  return { value: round.ms, details: round }
}

export interface ColdImportBench {
  comparison: TimedComparison
  /** Variants that loaded any @aws-sdk/client-ec2 file in some round. */
  loadedClientEc2: string[]
  markdown: string
}

/** Every package's built entry vs the raw library it wraps, interleaved fresh processes. */
export async function coldImportBench(options: { quick?: boolean } = {}): Promise<ColdImportBench> {
  const missing = ['core', 'dns', 'http', 'pg', 'redis'].filter((pkg) => !existsSync(dist(pkg)))
  if (missing.length > 0)
    throw new Error(`run \`pnpm build\` first: no dist for ${missing.join(', ')}`)
  const variants: Record<string, string[]> = {
    undici: [dependencyOf('http', 'undici')],
    '@privatelink/http': [dist('http')],
    'pg + @aws-sdk/rds-signer': [
      dependencyOf('pg', 'pg'),
      dependencyOf('pg', '@aws-sdk/rds-signer'),
    ],
    '@privatelink/pg': [dist('pg')],
    ioredis: [dependencyOf('redis', 'ioredis')],
    '@privatelink/redis': [dist('redis')],
    'cacheable-lookup': [dependencyOf('dns', 'cacheable-lookup')],
    '@privatelink/dns': [dist('dns')],
    '@privatelink/core': [dist('core')],
  }
  const comparison = await compareTimed(
    'Cold import in a fresh process (require of the built CommonJS entry)',
    'require ms',
    Object.fromEntries(
      Object.entries(variants).map(([name, files]) => [name, () => coldRequire(files)]),
    ),
    {
      rounds: options.quick ? 5 : 11,
      warmup: options.quick ? 0 : 1,
      // A raw library is its own baseline; core has none (it is what the others load).
      baselines: {
        'pg + @aws-sdk/rds-signer': 'pg + @aws-sdk/rds-signer',
        ioredis: 'ioredis',
        'cacheable-lookup': 'cacheable-lookup',
        '@privatelink/core': '@privatelink/core',
        '@privatelink/http': 'undici',
        '@privatelink/pg': 'pg + @aws-sdk/rds-signer',
        '@privatelink/redis': 'ioredis',
        '@privatelink/dns': 'cacheable-lookup',
      },
    },
  )
  const loadedClientEc2 = comparison.variants
    .filter((v) => v.details.some((d) => (d as ImportRound).clientEc2Files > 0))
    .map((v) => v.name)
  const markdown = [
    timedTable(comparison, {
      column: '@aws-sdk/client-ec2 loaded',
      render: (details) =>
        details.some((d) => (d as ImportRound).clientEc2Files > 0) ? 'yes' : 'no',
    }),
    '',
    '@privatelink/core has no raw counterpart (it is what the others load); @privatelink/dns is set against cacheable-lookup, the library it replaces.',
  ].join('\n')
  return { comparison, loadedClientEc2, markdown }
}
