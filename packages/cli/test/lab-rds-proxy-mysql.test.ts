import { describe, expect, it } from 'vitest'
import { cleanEnv, cli, startCli } from './support.js'

/** Starts `privatelink lab` in-process; `stop` plays the signal a user would send. */
const startLabCommand = (args: string[]) =>
  startCli(['lab', ...args], { env: cleanEnv(), ready: 'lab running' })

// The proxy only dials its upstream when a client logs in: starting the lab needs no MariaDB.
describe('privatelink lab --rds-proxy-mysql', { timeout: 60_000 }, () => {
  it("text: the MySQL proxy's name and port, beside the PostgreSQL proxy's", async () => {
    const lab = await startLabCommand([
      '--zones',
      '1',
      '--rds-proxy',
      'postgres@127.0.0.1:5432',
      '--rds-proxy-mysql',
      'root@127.0.0.1:3306',
    ])
    expect(await lab.stop('SIGTERM')).toBe(0)
    const { stdout } = lab.output()
    expect(stdout).toMatch(
      /^ {2}rds proxy mysql lab-mysql\.proxy-[a-z0-9]+\.us-west-2\.rds\.amazonaws\.com:3306 \(IAM auth with the cleartext plugin, TLS with the lab CA\)$/m,
    )
    expect(stdout).toMatch(/^ {2}rds proxy {5}lab-proxy\.proxy-[a-z0-9]+\..*:5432 /m)
  })

  it('a value without the user is refused with exit 2, naming the expected form', async () => {
    const run = await cli(['lab', '--rds-proxy-mysql', '127.0.0.1:3306'], { env: cleanEnv() })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('Expected user@host:port (e.g. root@127.0.0.1:3306)')
    expect(run.stderr).toContain("'127.0.0.1:3306'")
  })

  it('a --service on port 3306 clashes with it', async () => {
    const run = await cli(
      ['lab', '--service', 'db:3306=127.0.0.1:3306', '--rds-proxy-mysql', 'root@127.0.0.1:3306'],
      { env: cleanEnv() },
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      '--service db:3306 clashes with --rds-proxy-mysql, which is the service rds-proxy-mysql on port 3306',
    )
  })
})
