import { type Lab, labNetwork } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { CheckResult, DoctorReport } from '../src/index.js'
import { cli, type DoctorLab, labEnv, startDoctorLab } from './support.js'

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
  lab.metadata.setZone('us-west-2a')
  await lab.zone('us-west-2b').restore()
})

const network = () => labNetwork(lab.aws.inventory)
// labEnv points AWS_EC2_METADATA_SERVICE_ENDPOINT at the lab's IMDS: "this machine" is its instance.
const doctor = async (env: Record<string, string> = {}) => {
  const run = await cli(
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
      '--json',
    ],
    { env: labEnv(lab, env) },
  )
  const report = JSON.parse(run.stdout) as DoctorReport
  const check = (id: string, zone?: string): CheckResult =>
    report.checks.find((c) => c.id === id && (zone === undefined || c.zone === zone))!
  return { code: run.code, report, check }
}
const endpointGroup = () => lab.aws.inventory.endpoints[0]!.groupIds![0]!
const clientGroup = () => network().state.clientGroupId!
const me = () => `this instance (10.0.0.10, ${clientGroup()})`

describe('doctor checks the path from this machine: its address and security groups from IMDS', {
  timeout: 60_000,
}, () => {
  it('healthy lab: the instance, not the VPC, is the source; every line passes, no warning', async () => {
    const run = await doctor()
    expect(run.code).toBe(0)
    expect(run.report.summary).toMatchObject({ warn: 0, fail: 0 })
    expect(run.check('sg.ingress').seen).toBe(
      `TCP 8443 admitted from ${me()} by ${endpointGroup()} (tcp 0-65535 from 10.0.0.0/16)`,
    )
    expect(run.check('nacl.rules', 'us-west-2a').seen).toMatch(
      /inbound TCP 8443 from this instance \(10\.0\.0\.10, sg-\w+\) by rule 100/,
    )
  })

  it('a rule naming only its security group admits it (the VPC as the source would not be)', async () => {
    network().setIngress([
      { ipProtocol: 'tcp', fromPort: 8443, toPort: 8443, cidrs: [], groupIds: [clientGroup()] },
    ])
    const run = await doctor()
    expect(run.check('sg.ingress')).toMatchObject({
      status: 'pass',
      seen: `TCP 8443 admitted from ${me()} by ${endpointGroup()} (tcp 8443 from ${clientGroup()})`,
    })
    const vpc = await doctor({ AWS_EC2_METADATA_DISABLED: 'true', PRIVATELINK_AZ_ID: 'usw2-az1' })
    expect(vpc.check('sg.ingress').status).toBe('fail')
  })

  it('a rule for another subnet drops it: the rule to add names its group; a refusing zone is explained', async () => {
    network().setIngress([
      { ipProtocol: 'tcp', fromPort: 8443, toPort: 8443, cidrs: ['10.0.1.0/24'], groupIds: [] },
    ])
    await lab.zone('us-west-2b').fail('refuse')
    const run = await doctor()
    expect(run.code).toBe(1)
    const command = `aws ec2 authorize-security-group-ingress --group-id ${endpointGroup()} --protocol tcp --port 8443 --source-group ${clientGroup()}`
    expect(run.check('sg.ingress')).toMatchObject({
      status: 'fail',
      seen: `${endpointGroup()} (privatelink-lab-endpoint) admits no TCP 8443 from ${me()}: connects are dropped (a timeout, not a refusal)`,
      commands: [command],
    })
    expect(run.check('zone.reach', 'us-west-2b')).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/^Explained by sg-/),
      commands: [command],
    })

    // The same machine in us-west-2b is in 10.0.1.0/24: admitted.
    lab.metadata.setZone('us-west-2b')
    const moved = await doctor()
    expect(moved.check('sg.ingress').seen).toBe(
      `TCP 8443 admitted from this instance (10.0.1.10, ${clientGroup()}) by ${endpointGroup()} (tcp 8443 from 10.0.1.0/24)`,
    )
  })

  it("an ACL entry denying its subnet's range: the allow to add is for its address", async () => {
    const subnetId = lab.endpoint.zones[1]!.subnetId!
    const aclId = network().denyAclEntry({ subnetId, port: 8443, cidrBlock: '10.0.0.0/24' })
    const run = await doctor()
    expect(run.check('nacl.rules', 'us-west-2b')).toMatchObject({
      status: 'fail',
      seen: `${aclId} on ${subnetId}: inbound TCP 8443 from ${me()} denied by rule 90`,
      commands: [
        `aws ec2 create-network-acl-entry --network-acl-id ${aclId} --ingress --rule-number 89 --protocol tcp --port-range From=8443,To=8443 --cidr-block 10.0.0.10/32 --rule-action allow`,
      ],
    })
    expect(run.check('nacl.rules', 'us-west-2a').status).toBe('pass')
  })

  it('--source wins over IMDS; IMDS that hangs falls back to the VPC', async () => {
    const named = await doctor()
    expect(named.check('sg.ingress').seen).toContain('this instance')
    const run = await cli(
      [
        'doctor',
        lab.endpoint.id,
        '--dns',
        lab.dns.address,
        '--port',
        '8443',
        '--source',
        '10.0.5.5',
        '--json',
      ],
      { env: labEnv(lab) },
    )
    expect(
      (JSON.parse(run.stdout) as DoctorReport).checks.find((c) => c.id === 'sg.ingress')!.seen,
    ).toContain('from 10.0.5.5/32')
    lab.metadata.setHang(true)
    try {
      const hung = await doctor({ PRIVATELINK_AZ_ID: 'usw2-az1' })
      expect(hung.check('sg.ingress').seen).toContain('from the VPC (10.0.0.0/16)')
    } finally {
      lab.metadata.setHang(false)
    }
  })

  it("this machine's own security group must let the connection out: a missing outbound rule fails with the rule to add, and explains a silent zone", async () => {
    const healthy = await doctor()
    expect(healthy.check('sg.egress')).toMatchObject({
      status: 'pass',
      seen: `TCP 8443 out to the endpoint's subnets (10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24) allowed by ${clientGroup()} (all traffic to 0.0.0.0/0)`,
    })
    network().setClientEgress([
      { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrs: ['0.0.0.0/0'], groupIds: [] },
    ])
    await lab.zone('us-west-2b').fail('refuse')
    const run = await doctor()
    expect(run.code).toBe(1)
    const command = `aws ec2 authorize-security-group-egress --group-id ${clientGroup()} --ip-permissions 'IpProtocol=tcp,FromPort=8443,ToPort=8443,UserIdGroupPairs=[{GroupId=${endpointGroup()}}]'`
    expect(run.check('sg.egress')).toMatchObject({
      status: 'fail',
      seen: `${clientGroup()} (privatelink-lab-client) lets no TCP 8443 out to 10.0.0.0/24 (us-west-2a), 10.0.1.0/24 (us-west-2b), 10.0.2.0/24 (us-west-2c): connects from the client are dropped before they leave it (a timeout)`,
      commands: [command],
    })
    expect(run.check('zone.reach', 'us-west-2b')).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(
        /^Explained by sg-\w+ \(privatelink-lab-client\) lets no TCP 8443 out/,
      ),
      commands: [command],
    })
    // The rule the command adds (out to the endpoint's group) lets it out.
    network().setClientEgress([
      { ipProtocol: 'tcp', fromPort: 8443, toPort: 8443, cidrs: [], groupIds: [endpointGroup()] },
    ])
    const fixed = await doctor()
    expect(fixed.check('sg.egress').status).toBe('pass')
    // Addresses alone name no group: no egress line.
    const addressed = await cli(
      [
        'doctor',
        lab.endpoint.id,
        '--dns',
        lab.dns.address,
        '--port',
        '8443',
        '--source',
        '10.0.0.10',
        '--json',
      ],
      { env: labEnv(lab) },
    )
    const ids = (JSON.parse(addressed.stdout) as DoctorReport).checks.map((c) => c.id)
    expect(ids).toContain('sg.ingress')
    expect(ids).not.toContain('sg.egress')
  })
})
