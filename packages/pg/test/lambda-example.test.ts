import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { detectLocality } from '@privatelink/core'
import { type Lab, type RdsProxyFront, rdsProxyFront, startLab } from '@privatelink/lab'
import { createPool } from '@privatelink/pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AssumeRole,
  poolOptionsFromEnv,
} from '../../../examples/lambda-cross-account-db/config.js'
import { orderHandler } from '../../../examples/lambda-cross-account-db/orders.js'
import { sourceOf } from '../../../test/support/import-probe.js'
import { bytesByZone, postgresTarget } from './support.js'

const target = postgresTarget()
let lab: Lab
let front: RdsProxyFront

beforeAll(async () => {
  front = rdsProxyFront({
    upstream: {
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(target.password === '' ? {} : { password: target.password }),
    },
  })
  lab = await startLab({
    fronts: [front],
    services: [{ name: 'postgres', port: 5432, target: { front: 'rds-proxy' } }],
  })
})
afterAll(() => lab?.close())

/** What the function's configuration would hold (README: "Environment variables"). */
const functionEnv = () => ({
  ...lab.metadata.env('lambda'),
  PRIVATELINK_ENDPOINTS: JSON.stringify(lab.endpoint),
  DB_PROXY_HOST: front.proxyHost,
  DB_USER: 'app_user',
  DB_NAME: target.database,
  DB_ROLE_ARN: lab.aws.roles[0]!.arn,
  DB_EXTERNAL_ID: 'privatelink-lab',
})

// In Lambda the STS client finds its endpoint and the function's role by itself; here, the lab's.
const assumeRole: AssumeRole = (options) =>
  fromTemporaryCredentials({
    ...options,
    clientConfig: {
      endpoint: lab.aws.endpoint,
      region: lab.region,
      credentials: lab.aws.credentials,
    },
  })

describe('examples/lambda-cross-account-db against the lab', () => {
  it('serves invocations over one connection, from the zone Lambda metadata names, as the cross-account role', async () => {
    lab.metadata.setZone('us-west-2b')
    const env = functionEnv()
    const options = poolOptionsFromEnv(env, assumeRole)
    expect(options.profile).toBe('lambda')
    const locality = await detectLocality({ env })
    expect(locality).toMatchObject({ source: 'lambda', azId: 'usw2-az2' })
    const before = bytesByZone(lab, 'postgres')
    const authenticated = front.stats().authenticated
    // The lab CA stands in for the Amazon roots RDS Proxy's certificate chains to.
    const pool = createPool({
      ...options,
      ssl: { ca: lab.ca.certificatePem },
      connectorOptions: { locality },
    })
    const handler = orderHandler(pool)
    try {
      for (const orderId of [1, 2, 3]) {
        const result = await handler({ orderId })
        expect(result.orderId).toBe(orderId)
        expect(Number.isNaN(Date.parse(result.checkedAt))).toBe(false)
      }
      expect(pool.totalCount).toBe(1)
      expect(front.stats().authenticated - authenticated).toBe(1)
      const principal = front
        .events()
        .filter((e) => e.type === 'connected')
        .at(-1)?.principal
      expect(principal).toMatch(/^arn:aws:sts::222222222222:assumed-role\//)
      const after = bytesByZone(lab, 'postgres')
      expect(after['us-west-2b']! - before['us-west-2b']!).toBeGreaterThan(0)
      expect(after['us-west-2a']! - before['us-west-2a']!).toBe(0)
    } finally {
      await pool.end()
    }
  })

  it('lets the process exit with the pool idle: nothing keeps the event loop alive', async () => {
    const env = functionEnv()
    const session = lab.aws.issueSession(3600)
    const script = `
      const { createPool } = await import(${JSON.stringify(sourceOf('pg'))});
      const { endpointFromEnv } = await import(${JSON.stringify(sourceOf('core'))});
      const credentials = JSON.parse(process.env.TEST_CREDENTIALS);
      credentials.expiration = new Date(credentials.expiration);
      const pool = createPool({
        endpoint: endpointFromEnv(),
        proxyHost: process.env.DB_PROXY_HOST,
        user: process.env.DB_USER,
        database: process.env.DB_NAME,
        region: process.env.AWS_REGION,
        credentials,
        ssl: { ca: process.env.TEST_CA },
        connectorOptions: { locality: { azId: 'usw2-az1', source: 'options' } },
        profile: 'lambda',
      });
      const { rows } = await pool.query('SELECT 41 + 1 AS answer');
      console.log('answer', rows[0].answer, 'open', pool.totalCount, 'idle', pool.idleCount);
      // No pool.end(): a frozen or finished sandbox must not be held open by the pool.
    `
    const started = performance.now()
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          cwd: fileURLToPath(new URL('../../..', import.meta.url)),
          env: {
            ...process.env,
            ...env,
            NODE_OPTIONS: '',
            TEST_CREDENTIALS: JSON.stringify(session),
            TEST_CA: lab.ca.certificatePem,
          },
          timeout: 20_000,
        },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      )
    })
    expect(output).toContain('answer 42 open 1 idle 1')
    // Well under the 30 s idle timeout: the idle connection and its timer did not hold the process.
    expect(performance.now() - started).toBeLessThan(15_000)
  }, 30_000)
})
