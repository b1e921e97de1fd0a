import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Stack } from './stack.js'

type CliMain = (
  argv: string[],
  io: {
    stdout: { write(text: string): unknown; isTTY?: boolean }
    stderr: { write(text: string): unknown; isTTY?: boolean }
    env: Record<string, string | undefined>
  },
) => Promise<number>

export interface DoctorRun {
  /** Undefined when this checkout's CLI has no `doctor` command yet. */
  exitCode?: number
  lines: string[]
}

/**
 * Step 4: `privatelink doctor` against the lab endpoint, in-process (the CLI's main() takes its
 * streams and environment), as a user would run it on the instance: the lab's EC2 API and DNS
 * server, the instance's metadata, the lab CA for the TLS check.
 */
export async function runDoctor(
  stack: Stack,
  port: number,
  servername: string,
): Promise<DoctorRun> {
  const { lab } = stack
  const cli = (await import('privatelink')) as { main: CliMain }
  const folder = await mkdtemp(join(tmpdir(), 'privatelink-demo-'))
  try {
    const caFile = join(folder, 'lab-ca.pem')
    await writeFile(caFile, lab.ca.certificatePem)
    const lines: string[] = []
    let buffer = ''
    const sink = {
      isTTY: false,
      write(text: string) {
        buffer += text
        const parts = buffer.split('\n')
        buffer = parts.pop()!
        lines.push(...parts)
        return true
      },
    }
    const env = {
      ...lab.metadata.env('ec2'),
      AWS_REGION: lab.region,
      AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: lab.aws.credentials.secretAccessKey,
      // doctor's private hosted zone check asks Route 53, which the lab serves on the same endpoint.
      AWS_ENDPOINT_URL_ROUTE_53: lab.aws.endpoint,
      NO_COLOR: '1',
    }
    const argv = [
      'doctor',
      lab.endpoint.id,
      '--port',
      String(port),
      '--servername',
      servername,
      '--region',
      lab.region,
      '--dns',
      lab.dns.address,
      '--ca',
      caFile,
      '--endpoint-url',
      lab.aws.endpoint,
    ]
    // The CLI takes the lab key from `env`, as it would from a shell's environment.
    const exitCode = await cli.main(argv, { stdout: sink, stderr: sink, env })
    if (buffer !== '') lines.push(buffer)
    // An older CLI answers an unknown command with its usage text.
    if (lines.some((line) => /unknown command|^privatelink <command>/.test(line)))
      return { lines: [] }
    return { exitCode, lines }
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}
