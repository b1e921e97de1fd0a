import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, inject, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Runs `pnpm demo` as a user would (tsx examples/demo.ts), output piped: no TTY. */
async function runDemo(
  timeoutMs: number,
  args: string[] = [],
): Promise<{ code: number | null; output: string; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts', ...args], {
    cwd: root,
    // The PostgreSQL and Redis the suite found, as the demo would find them on its own; a
    // variable the suite sets for itself (AWS_EC2_METADATA_DISABLED) does not leak in.
    env: {
      ...process.env,
      AWS_EC2_METADATA_DISABLED: undefined,
      PG_URL: inject('pgUrl'),
      REDIS_URL: inject('redisUrl') || undefined,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
    stderr += chunk
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, output, stdout, stderr }
}

describe('./dev demo arguments', () => {
  it('--help prints the usage and exits 0 without running the demo', async () => {
    const { code, stdout, stderr } = await runDemo(30_000, ['--help'])
    expect(stdout).toMatch(/^usage: \.\/dev demo/)
    expect(stdout).toContain('-h, --help')
    expect(stdout).not.toContain('PrivateLink SDK demo')
    expect(stderr).toBe('')
    expect(code).toBe(0)
  }, 40_000)

  it('an unknown argument is refused with exit 2 and the usage on stderr', async () => {
    const { code, stdout, stderr } = await runDemo(30_000, ['--zones', '2'])
    expect(stderr).toMatch(/^\.\/dev demo: unknown argument '--zones'/)
    expect(stderr).toContain('usage: ./dev demo')
    expect(stdout).toBe('')
    expect(code).toBe(2)
  }, 40_000)
})

describe('./dev demo', () => {
  it('runs steps 1-5 with default options and ends with 0 failed operations, exit code 0', async () => {
    const { code, output } = await runDemo(150_000)
    expect(output, output).toMatch(
      /^Summary: .* 0 failed, while zone b was blackholed and hung\.$/m,
    )
    expect(code, output).toBe(0)
    // The story's steps, in order.
    const steps = [
      '1. The lab',
      '2. An app',
      '3. Zone b goes dark',
      '4. privatelink doctor',
      '5. Cleaned up',
    ]
    const at = steps.map((step) => output.indexOf(step))
    expect(
      at.every((index) => index >= 0),
      output,
    ).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    // Both faults ejected the zone; plain output (no escape codes) when not on a terminal.
    expect(output).toMatch(/^blackhole: zone b ejected [\d.]+ s after the fault/m)
    expect(output).toMatch(/^hang {5}: zone b ejected [\d.]+ s after the fault/m)
    expect(output).not.toContain('\u001b[')
    // The pinning note: the pool's warning once for two SETs, the proxy's log line, then the fix.
    expect(output.match(/warning PRIVATELINK_PG_PINNING: .*\(set\)/g)).toHaveLength(1)
    expect(output).toMatch(
      /^ {3}RDS Proxy log: The client session was pinned .*Reason: SQL changed session settings/m,
    )
    expect(output).toMatch(
      /^ {3}the fix: BEGIN; SET LOCAL .*: no warning, the proxy pinned nothing/m,
    )
    expect(output).not.toMatch(/RDS Proxy log: .*orders-api/) // the digest carries no literal
    // The metrics table, after step 3's table and before the doctor: what the app's meter saw.
    const table = output.slice(output.indexOf("The app's OpenTelemetry metrics"), at[3])
    expect(table).toMatch(/privatelink\.rds_proxy\.pinned_statements +set 2$/m)
    expect(table).toMatch(/privatelink\.zone\.ejections +.*\bb [a-z-]+ \d/m)
    expect(table).toMatch(/privatelink\.token\.refreshes +.*\bpg \d/m)
    expect(table).toMatch(/privatelink\.connector\.connections +a \d[\d,]*, b \d[\d,]*/m)
    // MySQL on 3306 of the same endpoint (RDS Proxy for MySQL emulator in front of MariaDB), or
    // one line saying why it was skipped when no MariaDB could be had; either way the demo passes.
    const mysqlRoute = output.match(
      /^ {3}mysql {4}3306 -> RDS Proxy for MySQL emulator \(IAM, TLS\) -> MariaDB [\d.]+:\d+ \((env|local|started)\)$/m,
    )
    if (mysqlRoute === null) {
      expect(output).toMatch(/^ {3}mysql {4}skipped: .+$/m)
      expect(output).toMatch(/^ {3}mysql: skipped \(.+\)$/m)
    } else {
      expect(output).toMatch(
        /^ {3}mysql: IAM token \(cleartext plugin over TLS\) for app_user, verified against lab-mysql\.proxy-[a-z0-9]+\.us-west-2\.rds\.amazonaws\.com: \S+/m,
      )
      expect(output).toMatch(/^3\. Zone b goes dark .*MySQL SELECT 1/m)
      // MySQL failed over too: it came back to zone b after each restore, and its loop completed
      // operations with none failed (the summary's 0 failed covers every kind).
      expect(output).toMatch(/^blackhole: .*back in zone b after restore: .*mysql [\d.]+ s/m)
      expect(output).toMatch(/^hang {5}: .*back in zone b after restore: .*mysql [\d.]+ s/m)
      expect(output).toMatch(/^Summary: .*\bmysql [1-9][\d,]*/m)
      expect(output).toMatch(/privatelink\.token\.refreshes +.*\bmysql \d/m)
    }
    // No flood: one line per second plus a few notes.
    expect(output.split('\n').length).toBeLessThan(120)
  }, 160_000)
})
