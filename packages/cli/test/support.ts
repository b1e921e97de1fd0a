import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Lab } from '@privatelink/lab'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { main } from '../src/main.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const cliSource = join(repoRoot, 'packages/cli/src/cli.ts')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

export interface SpawnedRun extends CliRun {
  signal: NodeJS.Signals | null
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
    AWS_ENDPOINT_URL_ROUTE_53: lab.aws.endpoint,
    AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: lab.aws.credentials.secretAccessKey,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: lab.metadata.imdsEndpoint,
    ...extra,
  })
}

/** An output stream that keeps what the CLI writes; `isTTY` plays a terminal. */
class Capture {
  text = ''
  private readonly waiters: { needle: string; resolve: () => void }[] = []
  constructor(readonly isTTY = false) {}
  write(chunk: string) {
    this.text += chunk
    for (const waiter of this.waiters.filter((w) => this.text.includes(w.needle))) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
    return true
  }
  /** Resolves once the text holds `needle`. */
  until(needle: string): Promise<void> {
    if (this.text.includes(needle)) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ needle, resolve }))
  }
}

export interface InProcessOptions {
  env?: Record<string, string>
  /** stdout and stderr play a terminal. */
  tty?: boolean
  /** What stops a long-running command (lab) in place of SIGINT / SIGTERM. */
  stopSignal?: () => Promise<string>
}

/**
 * Runs the CLI in this process through `main()` and its io seam: the same parsing, commands and
 * exit codes as the bin, without a node start per run. The lab the CLI talks to runs here too.
 */
export async function cli(args: string[], options: InProcessOptions = {}): Promise<CliRun> {
  const stdout = new Capture(options.tty)
  const stderr = new Capture(options.tty)
  const code = await main(args, {
    stdout,
    stderr,
    env: options.env ?? cleanEnv(),
    ...(options.stopSignal ? { stopSignal: options.stopSignal } : {}),
  })
  return { code, stdout: stdout.text, stderr: stderr.text }
}

/**
 * Starts a long-running command (lab) in-process and waits for `ready` on stderr; `stop` plays the
 * signal the user would send and resolves to the exit code.
 */
export async function startCli(
  args: string[],
  options: { env?: Record<string, string>; ready: string },
) {
  const stdout = new Capture()
  const stderr = new Capture()
  let send!: (signal: string) => void
  const signal = new Promise<string>((resolve) => {
    send = resolve
  })
  const done = main(args, {
    stdout,
    stderr,
    env: options.env ?? cleanEnv(),
    stopSignal: () => signal,
  })
  const exited = await Promise.race([
    stderr.until(options.ready).then(() => false),
    done.then(() => true),
  ])
  if (exited) throw new Error(`${args[0]} exited early: ${stderr.text}`)
  return {
    output: () => ({ stdout: stdout.text, stderr: stderr.text }),
    stop: (name: 'SIGINT' | 'SIGTERM') => {
      send(name)
      return done
    },
  }
}

/**
 * Runs the bin's entry (src/cli.ts, through tsx: no build needed) as a subprocess, for what only a
 * real process shows: exit codes, signals, process warnings. Never blocks this process, which
 * serves the lab the CLI talks to. The built bin is checked on the packed tarball
 * (scripts/bin-smoke.mjs), not here.
 */
export async function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<SpawnedRun> {
  const child = spawnCliProcess(args, options.env ?? cleanEnv())
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45_000)
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}

/** The bin's entry as a child process; cwd is the repository, whose tsconfig maps the packages to source. */
export function spawnCliProcess(args: string[], env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', cliSource, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Writes the lab CA to a file, as `--ca` takes it; `remove` deletes its folder. */
export async function caFile(lab: Lab): Promise<{ file: string; remove(): Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), 'privatelink-cli-test-'))
  const file = join(folder, 'ca.pem')
  await writeFile(file, lab.ca.certificatePem)
  return { file, remove: () => rm(folder, { recursive: true, force: true }) }
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

/** What doctor's lab tests run against: the lab, its CA as a file, and how to stop both. */
export interface DoctorLab {
  lab: Lab
  ca: { file: string; remove(): Promise<void> }
  stop(): Promise<void>
}

/**
 * A lab endpoint whose private DNS name `name` leads, on port 8443, to a TLS service with a
 * certificate for that name from the lab's CA (the service ends each connection at once).
 */
export async function startDoctorLab(name: string): Promise<DoctorLab> {
  const { createServer } = await import('node:tls')
  const { startLab } = await import('@privatelink/lab')
  const server = createServer((socket) => socket.end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const lab = await startLab({
    privateDnsName: name,
    services: [{ name: 'api', port: 8443, target: { host: '127.0.0.1', port } }],
  })
  const issued = await lab.ca.issue([name])
  server.setSecureContext({ cert: issued.certificatePem, key: issued.privateKeyPem })
  const ca = await caFile(lab)
  return {
    lab,
    ca,
    async stop() {
      await ca.remove()
      await lab.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
