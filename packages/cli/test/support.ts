import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Lab } from '@privatelink/lab'
import { Ajv2020 } from 'ajv/dist/2020.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const cliSource = join(repoRoot, 'packages/cli/src/cli.ts')
export const builtBin = join(repoRoot, 'packages/cli/dist/cli.js')

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The environment a user would have: no vitest switches, no AWS settings unless given. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (
      value === undefined ||
      key.startsWith('AWS_') ||
      key.startsWith('VITEST') ||
      key === 'NO_COLOR' ||
      key === 'FORCE_COLOR'
    )
      continue
    if (key.startsWith('PRIVATELINK_') || key === 'NODE_OPTIONS' || key === 'TEST') continue
    env[key] = value
  }
  return { ...env, ...extra }
}

/** The environment `privatelink lab` prints for pointing a program at a lab. */
export function labEnv(lab: Lab, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({
    AWS_REGION: lab.region,
    AWS_ENDPOINT_URL_EC2: lab.aws.endpoint,
    AWS_ENDPOINT_URL_STS: lab.aws.endpoint,
    AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: lab.aws.credentials.secretAccessKey,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: lab.metadata.imdsEndpoint,
    ...extra,
  })
}

/**
 * Runs the CLI as a subprocess: the source through tsx (no build needed), or the built bin.
 * Never blocks this process, which serves the lab the CLI talks to.
 */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; built?: boolean; timeoutMs?: number } = {},
): Promise<CliRun> {
  const command = options.built ? [builtBin] : ['--import', 'tsx', cliSource]
  const child = spawn(process.execPath, [...command, ...args], {
    cwd: repoRoot,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45_000)
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}

/** Writes the lab CA to a file, as `--ca` takes it. */
export async function caFile(lab: Lab): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'privatelink-cli-test-'))
  const file = join(folder, 'ca.pem')
  await writeFile(file, lab.ca.certificatePem)
  return file
}

/** A validator for the schemas the README documents (packages/cli/schema). */
export async function schemaValidator() {
  const { readFile, readdir } = await import('node:fs/promises')
  const folder = join(repoRoot, 'packages/cli/schema')
  const ajv = new Ajv2020({ allErrors: true, strict: true })
  ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)))
  for (const file of await readdir(folder))
    ajv.addSchema(JSON.parse(await readFile(join(folder, file), 'utf8')))
  return (schema: string, value: unknown): string[] => {
    const validate = ajv.getSchema(`https://privatelink.invalid/schema/${schema}`)
    if (validate === undefined) throw new Error(`no schema ${schema}`)
    return validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
  }
}
