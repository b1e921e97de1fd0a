import { type Lab, labNetwork } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadPolicySimulator } from '../src/doctor/policy-simulator.js'
import { renderMarkdown } from '../src/doctor/render-markdown.js'
import { runDoctor } from '../src/doctor/run-doctor.js'
import type { CheckResult, DoctorReport } from '../src/index.js'
import { parseTarget } from '../src/target.js'
import { cli, type DoctorLab, labEnv, schemaValidator, startDoctorLab } from './support.js'

const NAME = 'api.saas.example.com'
const APP = 'arn:aws:iam::111111111111:role/app'
let lab: Lab
let stop: DoctorLab['stop'] | undefined

beforeAll(async () => {
  ;({ lab, stop } = await startDoctorLab(NAME))
})
afterAll(() => stop?.())
afterEach(() => labNetwork(lab.aws.inventory).reset())

const network = () => labNetwork(lab.aws.inventory)
const doctor = async (...extra: string[]) => {
  const run = await cli(['doctor', lab.endpoint.id, '--dns', lab.dns.address, '--json', ...extra], {
    env: labEnv(lab),
  })
  const report = JSON.parse(run.stdout) as DoctorReport
  expect((await schemaValidator())('doctor.schema.json', report)).toEqual([])
  return {
    code: run.code,
    report,
    call: report.checks.find((c) => c.id === 'endpoint.policyCall') as CheckResult,
  }
}
const call = (action: string, resource: string, principal = APP) =>
  doctor('--action', action, '--resource', resource, '--principal', principal)

/** The seed's "endpoint policy restricting required actions", as a team would write one. */
const RESTRICTIVE = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AppBucketReads',
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::app-bucket/*',
      Condition: { StringEquals: { 'aws:PrincipalAccount': '111111111111' } },
    },
    {
      Sid: 'NoDeletes',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:DeleteObject',
      Resource: '*',
    },
  ],
}

describe('doctor --action: the endpoint policy evaluated for a call (@cloud-copilot/iam-simulate)', {
  timeout: 60_000,
}, () => {
  it("healthy lab: the call is allowed by the lab's statement, named; no warning", async () => {
    const run = await call('s3:GetObject', 'arn:aws:s3:::app-bucket/report.csv')
    expect(run.code).toBe(0)
    expect(run.report.summary).toMatchObject({ warn: 0, fail: 0 })
    expect(run.call).toMatchObject({
      status: 'pass',
      title: 'policy call',
      seen: `s3:GetObject on arn:aws:s3:::app-bucket/report.csv by ${APP}: allowed by "LabAccountOnly": Allow * on * for arn:aws:iam::111111111111:root`,
    })
    // The policy line comes first, the call's right after it.
    const ids = run.report.checks.map((c) => c.id)
    expect(ids.indexOf('endpoint.policyCall')).toBe(ids.indexOf('endpoint.policy') + 1)
  })

  it('another account: the same policy denies it implicitly, with the policy plus an Allow to set', async () => {
    const run = await call(
      's3:GetObject',
      'arn:aws:s3:::app-bucket/a',
      'arn:aws:iam::222222222222:role/x',
    )
    expect(run.code).toBe(1)
    expect(run.call.status).toBe('fail')
    expect(run.call.seen).toContain('implicitly denied, no statement allows it')
    expect(run.call.commands).toHaveLength(1)
    const command = run.call.commands![0]!
    expect(command).toMatch(
      new RegExp(
        `^aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${lab.endpoint.id} --policy-document '`,
      ),
    )
    const policy = JSON.parse(command.slice(command.indexOf("'") + 1, -1))
    expect(policy.Statement.at(-1)).toEqual({
      Sid: 'AllowTheCall',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::222222222222:role/x' },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::app-bucket/a',
    })
  })

  it('the restrictive-policy fault: a delete is denied by the Deny statement, named; a read elsewhere implicitly; a read in the bucket allowed', async () => {
    network().setPolicy(RESTRICTIVE)
    const deleted = await call('s3:DeleteObject', 'arn:aws:s3:::app-bucket/a')
    expect(deleted.code).toBe(1)
    expect(deleted.call).toMatchObject({
      status: 'fail',
      seen: `s3:DeleteObject on arn:aws:s3:::app-bucket/a by ${APP}: explicitly denied by "NoDeletes": Deny s3:DeleteObject on * for anyone (a Deny wins over every Allow)`,
      commands: [
        `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${lab.endpoint.id} --query 'VpcEndpoints[0].PolicyDocument' --output text`,
        `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${lab.endpoint.id} --policy-document file://policy.json`,
      ],
    })
    const elsewhere = await call('s3:GetObject', 'arn:aws:s3:::other-bucket/a')
    expect(elsewhere.call.status).toBe('fail')
    expect(elsewhere.call.seen).toMatch(
      /implicitly denied, no statement allows it \(2 statements: "AppBucketReads"/,
    )
    const read = await call('s3:GetObject', 'arn:aws:s3:::app-bucket/a')
    expect(read.code).toBe(0)
    expect(read.call.seen).toMatch(
      /: allowed by "AppBucketReads": Allow s3:GetObject on arn:aws:s3:::app-bucket\/\* for anyone with conditions$/,
    )
    // Its condition is evaluated: another account's principal does not meet it.
    const other = await call(
      's3:GetObject',
      'arn:aws:s3:::app-bucket/a',
      'arn:aws:iam::222222222222:role/app',
    )
    expect(other.call.status).toBe('fail')
  })

  it('an explicit Deny wins over an Allow that matches the same call', async () => {
    network().setPolicy({
      Statement: [
        { Sid: 'Everything', Effect: 'Allow', Principal: { AWS: APP }, Action: '*', Resource: '*' },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::app-bucket/*',
        },
      ],
    })
    const put = await call('s3:PutObject', 'arn:aws:s3:::app-bucket/a')
    expect(put.call.status).toBe('fail')
    expect(put.call.seen).toContain('explicitly denied by statement 2: Deny s3:PutObject')
    const get = await call('s3:GetObject', 'arn:aws:s3:::app-bucket/a')
    expect(get.call.seen).toContain('allowed by "Everything"')
    // An assumed-role session of the role is the role (aws:PrincipalArn): allowed too.
    const session = await call(
      's3:GetObject',
      'arn:aws:s3:::app-bucket/a',
      'arn:aws:sts::111111111111:assumed-role/app/i-0abc',
    )
    expect(session.call.status).toBe('pass')
  })

  it('no --principal: the account root stands for the caller, and the report says so', async () => {
    const run = await doctor('--action', 's3:GetObject', '--resource', 'arn:aws:s3:::b/k')
    expect(run.call.status).toBe('pass')
    expect(run.call.seen).toContain(
      "by arn:aws:iam::111111111111:root (no --principal: any principal of the endpoint's account)",
    )
  })

  it('an action IAM does not know: a warning with the code, not a crash', async () => {
    const run = await call('s3:GetObjekt', 'arn:aws:s3:::b/k')
    expect(run.code).toBe(0)
    expect(run.call).toMatchObject({ status: 'warn', code: 'ERR_POLICY_CALL_INVALID' })
  })

  it('the library absent (a real failed import): a warning saying how to install it and why it is not bundled', async () => {
    const results: CheckResult[] = []
    const report = await runDoctor(
      {
        target: parseTarget(lab.endpoint.id),
        timeoutMs: 3000,
        env: labEnv(lab),
        dns: [lab.dns.address],
        policyCall: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' },
        // The import doctor would make, of a package that is not installed anywhere.
        loadPolicySimulator: () => import(['@cloud-copilot', 'iam-simulate-absent'].join('/')),
      },
      (result) => results.push(result),
      { update() {}, clear() {} },
    )
    const check = report.checks.find((c) => c.id === 'endpoint.policyCall')!
    expect(check).toMatchObject({
      status: 'warn',
      code: 'ERR_POLICY_SIMULATOR_MISSING',
      seen: "s3:GetObject on arn:aws:s3:::b/k by arn:aws:iam::111111111111:root (no --principal: any principal of the endpoint's account): not evaluated, @cloud-copilot/iam-simulate is not installed",
    })
    expect(check.fix).toContain('npm i -g @cloud-copilot/iam-simulate')
    expect(check.fix).toContain('AGPL-3.0-or-later')
    expect(check.fix).toContain('Apache-2.0')
    expect(report.ok).toBe(true)
    expect(results).toContain(check)
    // The ticket report carries the code beside the status.
    expect(renderMarkdown(report, 'privatelink doctor')).toContain(
      '**policy call** (warn, ERR_POLICY_SIMULATOR_MISSING): s3:GetObject on',
    )
  })

  it('a gateway endpoint: its policy as AWS reads gateway policies (principals only through conditions)', async () => {
    const gatewayId = network().addGatewayEndpoint('s3')
    const gatewayCall = async (...extra: string[]) => {
      const run = await cli(['doctor', gatewayId, '--json', ...extra], { env: labEnv(lab) })
      return (JSON.parse(run.stdout) as DoctorReport).checks.find(
        (c) => c.id === 'endpoint.policyCall',
      )!
    }
    const args = ['--action', 's3:GetObject', '--resource', 'arn:aws:s3:::app-bucket/a']
    // AWS's default gateway policy (full access, Principal "*"): allowed by its only statement.
    expect(await gatewayCall(...args, '--principal', APP)).toMatchObject({
      status: 'pass',
      seen: `s3:GetObject on arn:aws:s3:::app-bucket/a by ${APP}: allowed by statement 1: Allow * on * for anyone`,
    })
    // The AWS-advised form: Principal "*", the principal in a condition.
    network().setPolicy(
      {
        Statement: [
          {
            Sid: 'AppRoleOnly',
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:*',
            Resource: '*',
            Condition: { ArnEquals: { 'aws:PrincipalArn': APP } },
          },
        ],
      },
      gatewayId,
    )
    expect((await gatewayCall(...args, '--principal', APP)).seen).toContain(
      'allowed by "AppRoleOnly"',
    )
    // A session of the role is the role for aws:PrincipalArn.
    expect(
      (await gatewayCall(...args, '--principal', 'arn:aws:sts::111111111111:assumed-role/app/s'))
        .status,
    ).toBe('pass')
    const other = await gatewayCall(...args, '--principal', 'arn:aws:iam::111111111111:role/etl')
    expect(other.status).toBe('fail')
    const command = other.commands![0]!
    const policy = JSON.parse(command.slice(command.indexOf("'") + 1, -1))
    expect(policy.Statement.at(-1)).toEqual({
      Sid: 'AllowTheCall',
      Effect: 'Allow',
      Principal: '*',
      Condition: { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/etl' } },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::app-bucket/a',
    })
    // Named principals on a gateway endpoint: not evaluated as an interface endpoint's would be.
    network().setPolicy(
      { Statement: [{ Effect: 'Allow', Principal: { AWS: APP }, Action: '*', Resource: '*' }] },
      gatewayId,
    )
    expect(await gatewayCall(...args, '--principal', APP)).toMatchObject({
      status: 'warn',
      code: 'ERR_POLICY_CALL_INVALID',
      seen: expect.stringContaining(
        "not evaluated, this gateway endpoint's policy names principals",
      ),
    })
  })

  it('a simulator that throws on an input is a warning with the code, and the other checks still run', async () => {
    const report = await runDoctor(
      {
        target: parseTarget(lab.endpoint.id),
        timeoutMs: 3000,
        env: labEnv(lab),
        dns: [lab.dns.address],
        policyCall: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' },
        loadPolicySimulator: async () => ({
          ...(await loadPolicySimulator()),
          runSimulation: () => {
            throw new TypeError('unexpected input')
          },
        }),
      },
      () => {},
      { update() {}, clear() {} },
    )
    expect(report.checks.find((c) => c.id === 'endpoint.policyCall')).toMatchObject({
      status: 'warn',
      code: 'ERR_POLICY_CALL_INVALID',
      seen: expect.stringMatching(/: the simulator refused the input \(it threw TypeError\)$/),
    })
    expect(report.checks.at(-1)!.id).toBe('zone.locality')
  })

  it('usage: --resource without --action, --action without --resource, a bad action exit 2 naming the flag', async () => {
    const env = { env: labEnv(lab) }
    const stray = await cli(
      ['doctor', lab.endpoint.id, '--resource', 'arn:aws:s3:::b/k', '--json'],
      env,
    )
    expect(stray.code).toBe(2)
    expect(JSON.parse(stray.stdout)).toMatchObject({
      error: { code: 'ERR_USAGE', option: '--resource' },
    })
    const half = await cli(['doctor', lab.endpoint.id, '--action', 's3:GetObject'], env)
    expect(half.code).toBe(2)
    expect(half.stderr).toContain('--action without --resource')
    const bad = await cli(['doctor', lab.endpoint.id, '--action', 'GetObject'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      "option '--action <service:action>' argument 'GetObject' is invalid",
    )
  })
})
