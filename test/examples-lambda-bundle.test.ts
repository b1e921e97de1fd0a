import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const exampleDir = join(root, 'examples/lambda-cross-account-db')
// The workspace's esbuild (the bench's): the README's `npx --yes esbuild@<version>` fetches the
// same version from the registry, which a test does not.
const workspaceEsbuild = join(root, 'bench/node_modules/esbuild')

/** The README's bundle command, as written: `npx --yes esbuild@<version> handler.ts ...`. */
async function documentedCommand(): Promise<string> {
  const readme = await readFile(join(exampleDir, 'README.md'), 'utf8')
  const block = /```sh\n(npx --yes esbuild@[^`]*?)```/.exec(readme)
  if (block === null) throw new Error('no ```sh npx --yes esbuild@...``` block in the README')
  return block[1]!.trim()
}

let folder: string
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'privatelink-lambda-bundle-'))
  const url = new URL(inject('pgUrl'))
  const password = decodeURIComponent(url.password)
  front = rdsProxyFront({
    upstream: {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username),
      ...(password === '' ? {} : { password }),
    },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
})

afterAll(async () => {
  await lab?.close()
  if (folder !== undefined) await rm(folder, { recursive: true, force: true })
})

describe('examples/lambda-cross-account-db: the README bundle command', () => {
  it('bundles from a checkout, and the bundle serves an invocation against the lab', async () => {
    const command = await documentedCommand()
    const version = JSON.parse(
      await readFile(join(workspaceEsbuild, 'package.json'), 'utf8'),
    ).version
    const npx = `npx --yes esbuild@${version} `
    expect(command.startsWith(npx), command).toBe(true)
    expect(command).toContain('--outfile=dist/handler.mjs')
    const outfile = join(folder, 'handler.mjs')
    // Run by a shell as written, with the workspace's esbuild for npx's and the output elsewhere.
    const script = command
      .replace(npx, `${JSON.stringify(join(workspaceEsbuild, 'bin/esbuild'))} `)
      .replace('--outfile=dist/handler.mjs', `--outfile=${JSON.stringify(outfile)}`)
    await run('bash', ['-c', script], { cwd: exampleDir })

    // The bundle alone, as Lambda runs it: the function's environment (README), the lab's STS and
    // Lambda metadata API, the lab CA trusted as a deployment would trust Amazon's.
    const caFile = join(folder, 'lab-ca.pem')
    await writeFile(caFile, lab.ca.certificatePem)
    const outside = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => !key.startsWith('AWS_') || key === 'AWS_EC2_METADATA_DISABLED',
      ),
    )
    const invoke = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(outfile).href)});
      console.log(JSON.stringify(await handler({ orderId: 7 })));
    `
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', invoke], {
      cwd: folder,
      env: {
        ...outside,
        ...lab.metadata.env('lambda'),
        NODE_OPTIONS: '',
        NODE_EXTRA_CA_CERTS: caFile,
        AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: lab.aws.credentials.secretAccessKey,
        AWS_ENDPOINT_URL_STS: lab.aws.endpoint,
        PRIVATELINK_ENDPOINTS: lab.endpointJson(),
        DB_PROXY_HOST: front.proxyHost,
        DB_USER: 'app_user',
        DB_NAME: 'postgres',
        DB_ROLE_ARN: lab.aws.roles[0]!.arn,
        DB_EXTERNAL_ID: lab.aws.roles[0]!.externalId ?? '',
      },
      timeout: 30_000,
    })
    expect(JSON.parse(stdout)).toMatchObject({ orderId: 7 })
    // Signed by the role assumed through STS, not the long-term key.
    expect(front.events().find((event) => event.type === 'connected')?.principal).toMatch(
      /assumed-role\/privatelink-cross-account\//,
    )
  }, 60_000)
})
