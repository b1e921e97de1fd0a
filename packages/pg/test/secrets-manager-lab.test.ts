import {
  type Lab,
  type RdsProxyFront,
  rdsProxyFront,
  type SecretsManagerFront,
  secretsManagerFront,
  startLab,
} from '@privatelink/lab'
import { createIamTokenProvider, createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { postgresTarget, zoneA } from './support.js'

const target = postgresTarget()
let lab: Lab
let proxy: RdsProxyFront
let secrets: SecretsManagerFront

beforeAll(async () => {
  proxy = rdsProxyFront({
    upstream: {
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(target.password === '' ? {} : { password: target.password }),
    },
  })
  secrets = secretsManagerFront()
  lab = await startLab({
    fronts: [proxy, secrets],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
})
afterAll(async () => {
  vi.unstubAllEnvs()
  await lab?.close()
})

describe("auth: { secretId } with the real SecretsManagerClient against the lab's emulator", () => {
  // The local PostgreSQL trusts every login, so pg would never ask for the password and the
  // secret would go unread. The lab's RDS Proxy does ask, and checks what it gets as an IAM token:
  // the secret holds one, so a password that did not come out of Secrets Manager fails the login.
  it('reads { username, password } with GetSecretValue (SigV4-verified) and logs in with it', async () => {
    const session = lab.aws.issueSession(3600)
    const token = await createIamTokenProvider({
      hostname: proxy.proxyHost,
      username: 'app_user',
      region: lab.region,
      credentials: session,
    }).getToken()
    secrets.put('prod/app_user', { username: 'app_user', password: token })
    // pg creates its SecretsManagerClient itself and takes no client config: the SDK's own
    // service endpoint variable is the one way to point it at the lab.
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secrets.endpoint)

    const pool = createPool({
      endpoint: lab.endpoint,
      proxyHost: proxy.proxyHost,
      user: 'app_user',
      database: target.database,
      auth: { secretId: 'prod/app_user' },
      credentials: lab.aws.credentials,
      ssl: { ca: lab.ca.certificatePem },
      connector: { locality: zoneA },
      max: 2,
    })
    try {
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          pool.query<{ user: string; one: number }>('SELECT current_user AS user, 1 AS one'),
        ),
      )
      // The proxy logs in upstream as its own user, as RDS Proxy does.
      for (const { rows } of results) expect(rows[0]).toEqual({ user: target.user, one: 1 })
      // One read for the pool, signed by the pool's credentials and verified by the emulator.
      const reads = secrets.requests.filter((r) => r.operation === 'GetSecretValue')
      expect(reads).toEqual([
        {
          operation: 'GetSecretValue',
          secretId: 'prod/app_user',
          status: 200,
          principal: `arn:aws:iam::${lab.aws.accountId}:user/privatelink-lab`,
          via: 'http',
        },
      ])
      // The user and password from the secret reached the proxy, which verified the token.
      const logins = proxy.events().filter((e) => e.type === 'connected')
      expect(logins.length).toBeGreaterThanOrEqual(1)
      for (const login of logins)
        expect(login).toMatchObject({
          user: 'app_user',
          principal: `arn:aws:sts::${lab.aws.accountId}:assumed-role/privatelink-lab/session`,
        })
    } finally {
      await pool.end()
      vi.unstubAllEnvs()
    }
  })
})
