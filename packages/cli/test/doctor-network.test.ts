import { FULL_ACCESS_POLICY, type Lab, labNetwork } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../src/index.js'
import { cli, type DoctorLab, labEnv, schemaValidator, startDoctorLab } from './support.js'

const NAME = 'api.saas.example.com'
let lab: Lab
let ca: DoctorLab['ca']
let stop: DoctorLab['stop'] | undefined

beforeAll(async () => {
  ;({ lab, ca, stop } = await startDoctorLab(NAME))
})
afterAll(() => stop?.())
afterEach(async () => {
  labNetwork(lab.aws.inventory).reset()
  await lab.zone('us-west-2b').restore()
})

const network = () => labNetwork(lab.aws.inventory)
const doctor = (...extra: string[]) =>
  cli(
    [
      'doctor',
      lab.endpoint.id,
      '--dns',
      lab.dns.address,
      '--port',
      '8443',
      '--servername',
      NAME,
      '--ca',
      ca.file,
      '--starttls',
      'none',
      ...extra,
    ],
    // The whole VPC as the caller: no IMDS (see doctor-instance.test.ts for this machine as it).
    { env: labEnv(lab, { AWS_EC2_METADATA_DISABLED: 'true', PRIVATELINK_AZ_ID: 'usw2-az1' }) },
  )
const line = (stdout: string, title: string) =>
  stdout.split('\n').find((l) => l.slice(6).startsWith(`${title} `))
/** The `run:` lines printed under the check titled `title`. */
const runLines = (stdout: string, title: string) => {
  const lines = stdout.split('\n')
  const start = lines.findIndex((l) => l.slice(6).startsWith(`${title} `))
  const out: string[] = []
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('      ')) break
    if (l.startsWith('      run: ')) out.push(l.slice('      run: '.length))
  }
  return out
}
const group = () => lab.aws.inventory.network!.securityGroups[0]!.groupId

describe('doctor: security groups, network ACLs, endpoint policy (lab faults)', {
  timeout: 60_000,
}, () => {
  it('healthy lab: the new checks pass, no warning', async () => {
    const run = await doctor()
    expect(run.code, run.stdout).toBe(0)
    expect(line(run.stdout, 'security group')).toMatch(
      /^pass .*TCP 8443 admitted from the VPC \(10\.0\.0\.0\/16\) by sg-\w+ \(tcp 0-65535 from 10\.0\.0\.0\/16\)$/,
    )
    for (const zone of ['us-west-2a', 'us-west-2b', 'us-west-2c'])
      expect(line(run.stdout, `nacl ${zone}`)).toMatch(
        /^pass .*inbound TCP 8443 from the VPC \(10\.0\.0\.0\/16\) by rule 100, return traffic \(TCP 1024-65535\) by rule 100$/,
      )
    expect(line(run.stdout, 'endpoint policy')).toMatch(
      /^pass .*restricted, 1 statement: "LabAccountOnly": Allow \* on \* for arn:aws:iam::111111111111:root$/,
    )
    expect(run.stdout).toMatch(/passed, 0 warnings, 0 failed: no problem found/)
    expect(run.stdout).not.toContain('run:')
  })

  it('a missing rule: the group line fails with the exact authorize-security-group-ingress command, and a refusing zone is explained by it', async () => {
    network().allowOnlyPorts([443])
    await lab.zone('us-west-2b').fail('refuse')
    const run = await doctor()
    expect(run.code).toBe(1)
    const command = `aws ec2 authorize-security-group-ingress --group-id ${group()} --protocol tcp --port 8443 --cidr 10.0.0.0/16`
    expect(line(run.stdout, 'security group')).toMatch(
      /^fail .*sg-\w+ \(privatelink-lab-endpoint\) admits no TCP 8443 from the VPC \(10\.0\.0\.0\/16\): connects are dropped/,
    )
    expect(runLines(run.stdout, 'security group')).toEqual([command])
    expect(line(run.stdout, 'reach us-west-2b')).toMatch(/^fail .*refused$/)
    expect(run.stdout).toContain('fix: Explained by sg-')
    expect(runLines(run.stdout, 'reach us-west-2b')).toEqual([command])
  })

  it('--source: a client address outside the only rule fails; its security group as a source passes', async () => {
    network().setIngress([
      {
        ipProtocol: 'tcp',
        fromPort: 8443,
        toPort: 8443,
        cidrs: ['10.0.1.0/24'],
        groupIds: ['sg-0123456789abcdef0'],
      },
    ])
    const outside = await doctor('--source', '10.0.7.9')
    expect(line(outside.stdout, 'security group')).toMatch(
      /^fail .*admits no TCP 8443 from 10\.0\.7\.9\/32/,
    )
    expect(runLines(outside.stdout, 'security group')).toEqual([
      `aws ec2 authorize-security-group-ingress --group-id ${group()} --protocol tcp --port 8443 --cidr 10.0.7.9/32`,
    ])
    const inside = await doctor('--source', '10.0.1.20', '--source', 'sg-0123456789abcdef0')
    expect(line(inside.stdout, 'security group')).toMatch(
      /^pass .*10\.0\.1\.20\/32 by sg-.*; sg-0123456789abcdef0 by sg-/,
    )
    // Without --source, a rule for part of the VPC is a warning, not a pass.
    const vpc = await doctor()
    expect(line(vpc.stdout, 'security group')).toMatch(
      /^warn .*admit TCP 8443 only from 10\.0\.1\.0\/24 within the VPC \(10\.0\.0\.0\/16\)/,
    )
    expect(vpc.code).toBe(0)
  })

  it('a deny ACL entry in one subnet: that zone fails in rule order, the others pass, and its refusal is explained', async () => {
    const subnetId = lab.endpoint.zones[1]!.subnetId!
    const aclId = network().denyAclEntry({ subnetId, port: 8443 })
    await lab.zone('us-west-2b').fail('refuse')
    const run = await doctor()
    expect(run.code).toBe(1)
    expect(line(run.stdout, 'nacl us-west-2b')).toBe(
      `fail  nacl us-west-2b        ${aclId} on ${subnetId}: inbound TCP 8443 from the VPC (10.0.0.0/16) denied by rule 90`,
    )
    const fix = `aws ec2 create-network-acl-entry --network-acl-id ${aclId} --ingress --rule-number 89 --protocol tcp --port-range From=8443,To=8443 --cidr-block 10.0.0.0/16 --rule-action allow`
    expect(runLines(run.stdout, 'nacl us-west-2b')).toEqual([fix])
    expect(line(run.stdout, 'nacl us-west-2a')).toMatch(/^pass /)
    expect(line(run.stdout, 'security group')).toMatch(/^pass /)
    expect(run.stdout).toContain(`fix: Explained by ${aclId} on ${subnetId}: inbound TCP 8443`)
    expect(runLines(run.stdout, 'reach us-west-2b')).toEqual([fix])
  })

  it('a deny entry numbered after the allow does not decide; an outbound deny of ephemeral ports does', async () => {
    const subnetId = lab.endpoint.zones[2]!.subnetId!
    network().denyAclEntry({ subnetId, port: 8443, ruleNumber: 200 })
    const later = await doctor()
    expect(line(later.stdout, 'nacl us-west-2c')).toMatch(/^pass .*by rule 100/)

    const aclId = network().denyAclEntry({ subnetId, port: 32768, toPort: 60999, egress: true })
    const run = await doctor()
    expect(line(run.stdout, 'nacl us-west-2c')).toMatch(
      /^fail .*return traffic \(TCP 1024-65535\) to the VPC \(10\.0\.0\.0\/16\) denied by rule 90$/,
    )
    expect(runLines(run.stdout, 'nacl us-west-2c')).toEqual([
      `aws ec2 create-network-acl-entry --network-acl-id ${aclId} --egress --rule-number 89 --protocol tcp --port-range From=1024,To=65535 --cidr-block 10.0.0.0/16 --rule-action allow`,
    ])
  })

  it('a zone that does not answer while its security group and ACL pass: the fix looks past them, to this host and the provider', async () => {
    await lab.zone('us-west-2b').fail('blackhole')
    const run = await doctor('--timeout', '300')
    expect(run.code).toBe(1)
    expect(line(run.stdout, 'security group')).toMatch(/^pass /)
    expect(line(run.stdout, 'nacl us-west-2b')).toMatch(/^pass /)
    expect(line(run.stdout, 'reach us-west-2b')).toMatch(/^fail .*no answer in 300 ms$/)
    expect(run.stdout).toContain(
      "fix: Connects to port 8443 go unanswered although the security groups and this zone's network ACL admit them (above): check the client's own subnet ACL and any firewall on the way, then ask the provider whether the NLB has a healthy target in this zone",
    )
  })

  it('endpoint policy: full access warns with the command that restricts it; a restrictive one is named statement by statement', async () => {
    network().setPolicy(FULL_ACCESS_POLICY)
    const full = await doctor()
    expect(full.code).toBe(0)
    expect(line(full.stdout, 'endpoint policy')).toMatch(
      /^warn .*full access \(statement 1: Allow \* on \* for anyone\)/,
    )
    expect(runLines(full.stdout, 'endpoint policy')[0]).toBe(
      `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${lab.endpoint.id} --policy-document '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"*","Resource":"*"}]}'`,
    )
    network().setPolicy({
      Statement: [
        {
          Sid: 'ReadOnly',
          Effect: 'Allow',
          Principal: '*',
          Action: ['execute-api:Invoke'],
          Resource: 'arn:aws:execute-api:us-west-2:111111111111:abc/*/GET/*',
        },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: '*',
          Resource: '*',
          Condition: { StringNotEquals: { 'aws:PrincipalAccount': '111111111111' } },
        },
      ],
    })
    const restricted = await doctor()
    expect(line(restricted.stdout, 'endpoint policy')).toContain(
      'restricted, 2 statements (1 deny): "ReadOnly": Allow execute-api:Invoke on arn:aws:execute-api:us-west-2:111111111111:abc/*/GET/* for anyone; statement 2: Deny * on * for anyone with conditions',
    )
  })

  it('--json carries the commands and follows the schema; --format markdown is a ticket-ready report', async () => {
    network().allowOnlyPorts([443])
    const validate = await schemaValidator()
    const json = await doctor('--json')
    const report = JSON.parse(json.stdout) as DoctorReport
    expect(validate('doctor.schema.json', report)).toEqual([])
    expect(report.checks.find((c) => c.id === 'sg.ingress')).toMatchObject({
      status: 'fail',
      commands: [expect.stringMatching(/^aws ec2 authorize-security-group-ingress /)],
    })
    expect(report.checks.map((c) => c.id)).toEqual([
      'endpoint.found',
      'endpoint.state',
      'vpc.enableDnsSupport',
      'vpc.enableDnsHostnames',
      'endpoint.privateDns',
      'endpoint.policy',
      'dns.dhcpOptions',
      'dns.hostedZones',
      'dns.resolve',
      'dns.resolve',
      'sg.ingress',
      'nacl.rules',
      'nacl.rules',
      'nacl.rules',
      'zone.reach',
      'zone.reach',
      'zone.reach',
      'tls.certificate',
      'zone.locality',
    ])
    const formatJson = JSON.parse((await doctor('--format', 'json')).stdout) as DoctorReport
    expect(formatJson.checks.map((c) => c.id)).toEqual(report.checks.map((c) => c.id))

    const markdown = await doctor('--format', 'markdown')
    expect(markdown.code).toBe(1)
    const text = markdown.stdout
    expect(text).toMatch(
      /^## privatelink doctor: 1 problem found\n\n`privatelink doctor vpce-\w+ --port 8443 --servername api\.saas\.example\.com`\n/,
    )
    expect(text).toContain(
      '| status | check | seen |\n| --- | --- | --- |\n| pass | endpoint found |',
    )
    expect(text).toContain('| **FAIL** | security group |')
    expect(text).toContain(
      `### What to do\n\n**security group** (fail): ${group()} (privatelink-lab-endpoint) admits no TCP 8443`,
    )
    expect(text).toContain(
      `\`\`\`sh\naws ec2 authorize-security-group-ingress --group-id ${group()} --protocol tcp --port 8443 --cidr 10.0.0.0/16\n\`\`\``,
    )
    expect(markdown.stderr).toBe('')
  })

  it('usage: a bad --source and --json with --format markdown exit 2 naming the flag', async () => {
    const bad = await doctor('--source', '10.0.0.0/40')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("option '--source <client>' argument '10.0.0.0/40' is invalid")
    const both = await doctor('--json', '--format', 'markdown')
    expect(both.code).toBe(2)
    expect(JSON.parse(both.stdout)).toMatchObject({
      error: { code: 'ERR_USAGE', option: '--format' },
    })
  })
})
