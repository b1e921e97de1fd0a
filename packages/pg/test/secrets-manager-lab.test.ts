import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { type AwsRequestHandler, createAwsRequestHandler } from '@privatelink/aws-sdk'
import {
  type Lab,
  type RdsProxyFront,
  rdsProxyFront,
  type SecretsManagerFront,
  secretsManagerFront,
  startLab,
} from '@privatelink/lab'
import { createIamTokenProvider, createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresTarget, zoneA } from './support.js'

const target = postgresTarget()
let lab: Lab
let proxy: RdsProxyFront
let secrets: SecretsManagerFront
let requestHandler: AwsRequestHandler

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
    services: [
      { name: 'postgres', port: 5432, target: { front: 'rds-proxy' } },
      // The same lab endpoint carries Secrets Manager: HTTPS for secretsmanager.<region>.amazonaws.com.
      { name: 'secretsmanager', port: 443, target: { front: secrets.name } },
    ],
  })
  requestHandler = createAwsRequestHandler({
    endpoints: { secretsmanager: lab.endpoint },
    ca: lab.ca.certificatePem,
    locality: zoneA,
  })
})
afterAll(async () => {
  await requestHandler?.close()
  await lab?.close()
})

/** An IAM token for app_user, which the secret holds: the lab's RDS Proxy verifies it at login. */
const putToken = async (secretId: string) => {
  const token = await createIamTokenProvider({
    hostname: proxy.proxyHost,
    username: 'app_user',
    region: lab.region,
    credentials: lab.aws.issueSession(3600),
  }).getToken()
  secrets.put(secretId, { username: 'app_user', password: token })
}
const poolOptions = (auth: Parameters<typeof createPool>[0]['auth']) => ({
  endpoint: lab.endpoint,
  proxyHost: proxy.proxyHost,
  user: 'app_user',
  database: target.database,
  auth,
  credentials: lab.aws.credentials,
  ssl: { ca: lab.ca.certificatePem },
  connectorOptions: { locality: zoneA },
  max: 2,
})
const readsOf = (secretId: string) =>
  secrets.requests.filter((r) => r.operation === 'GetSecretValue' && r.secretId === secretId)

describe("auth: { secretId } with the real SecretsManagerClient against the lab's emulator", () => {
  // Whatever the test PostgreSQL's own authentication (trust on some machines, scram in an
  // embedded server), the client never logs in to it: the lab's RDS Proxy asks every client for a
  // password and checks it as an IAM token, then logs in upstream with the services helper's
  // credentials. The secret holds a token, so a password not read from Secrets Manager fails.
  it('reads { username, password } with GetSecretValue (SigV4-verified) through the interface endpoint (clientConfig) and logs in with it', async () => {
    await putToken('prod/app_user')
    // pg creates its SecretsManagerClient itself; clientConfig hands it the endpoint's request
    // handler, so GetSecretValue goes over TLS through the zone ENIs (no public Secrets Manager).
    const pool = createPool(
      poolOptions({ secretId: 'prod/app_user', clientConfig: { requestHandler } }),
    )
    try {
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          pool.query<{ user: string; one: number }>('SELECT current_user AS user, 1 AS one'),
        ),
      )
      // The proxy logs in upstream as its own user, as RDS Proxy does.
      for (const { rows } of results) expect(rows[0]).toEqual({ user: target.user, one: 1 })
      // One read for the pool, signed by the pool's credentials and verified by the emulator.
      expect(readsOf('prod/app_user')).toEqual([
        {
          operation: 'GetSecretValue',
          secretId: 'prod/app_user',
          status: 200,
          principal: `arn:aws:iam::${lab.aws.accountId}:user/privatelink-lab`,
          via: 'tls',
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
    }
  })

  it('a real SecretsManagerClient passed as auth.client is sent a GetSecretValueCommand', async () => {
    await putToken('prod/app_user-own-client')
    const client = new SecretsManagerClient({
      region: lab.region,
      credentials: lab.aws.credentials,
      requestHandler,
    })
    const sent: unknown[] = []
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName)
        return next(args)
      },
      { step: 'initialize', name: 'recordCommand' },
    )
    const pool = createPool(poolOptions({ secretId: 'prod/app_user-own-client', client }))
    try {
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one')
      expect(rows[0]!.one).toBe(1)
      expect(sent).toEqual(['GetSecretValueCommand'])
      expect(readsOf('prod/app_user-own-client')).toMatchObject([{ status: 200, via: 'tls' }])
      // The client stays the caller's: still usable for their own commands.
      const own = await client.send(
        new GetSecretValueCommand({ SecretId: 'prod/app_user-own-client' }),
      )
      expect(JSON.parse(own.SecretString!)).toMatchObject({ username: 'app_user' })
    } finally {
      await pool.end()
    }
  })
})
