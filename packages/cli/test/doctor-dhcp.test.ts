import { type Lab, labNetwork } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { CheckResult, DoctorReport } from '../src/index.js'
import { cli, type DoctorLab, labEnv, schemaValidator, startDoctorLab } from './support.js'

// The seed's DNS flow starts at the VPC's DHCP options: the servers it hands out must be the VPC
// resolver or forward to it. The custom addresses appear only in the EC2 API's answer.
const NAME = 'api.saas.example.com'
let lab: Lab
let ca: DoctorLab['ca']
let stop: DoctorLab['stop'] | undefined

beforeAll(async () => {
  ;({ lab, ca, stop } = await startDoctorLab(NAME))
})
afterAll(() => stop?.())
afterEach(() => labNetwork(lab.aws.inventory).reset())

const doctor = async () => {
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
    { env: labEnv(lab) },
  )
  const report = JSON.parse(run.stdout) as DoctorReport
  expect((await schemaValidator())('doctor.schema.json', report)).toEqual([])
  const dhcp = report.checks.find((c) => c.id === 'dns.dhcpOptions') as CheckResult
  return { code: run.code, report, dhcp }
}
const vpcId = () => lab.endpoint.vpcId!

describe('doctor reads the VPC DHCP options set', { timeout: 60_000 }, () => {
  it('healthy lab: AmazonProvidedDNS passes, no warning anywhere', async () => {
    const { code, report, dhcp } = await doctor()
    expect(code).toBe(0)
    expect(report.summary).toMatchObject({ warn: 0, fail: 0, skip: 0 })
    expect(dhcp).toMatchObject({ status: 'pass', title: 'dns dhcp options' })
    expect(dhcp.seen).toMatch(
      new RegExp(`^dopt-[0-9a-f]+ on ${vpcId()}: domain-name-servers AmazonProvidedDNS$`),
    )
    // The DHCP line comes first among the DNS checks, as in the seed's flow.
    const ids = report.checks.map((c) => c.id)
    expect(ids.indexOf('dns.dhcpOptions')).toBeLessThan(ids.indexOf('dns.hostedZones'))
  })

  it('custom DNS servers: a warning that says they must forward to the VPC resolver, and the commands', async () => {
    const dopt = labNetwork(lab.aws.inventory).setDhcpDnsServers(['10.20.0.53', '10.20.1.53'])
    const { code, report, dhcp } = await doctor()
    expect(code).toBe(0) // a warning: the servers may forward correctly
    expect(report.summary.warn).toBe(1)
    expect(dhcp).toMatchObject({
      status: 'warn',
      seen: `${dopt} on ${vpcId()}: domain-name-servers 10.20.0.53, 10.20.1.53 (custom: 10.20.0.53, 10.20.1.53)`,
      commands: [
        `aws ec2 create-dhcp-options --dhcp-configurations "Key=domain-name-servers,Values=AmazonProvidedDNS" "Key=domain-name,Values=${lab.region}.compute.internal"`,
        `aws ec2 associate-dhcp-options --dhcp-options-id <DhcpOptionsId from the command above> --vpc-id ${vpcId()}`,
      ],
    })
    expect(dhcp.fix).toContain('make 10.20.0.53, 10.20.1.53 forward')
    expect(dhcp.fix).toContain('10.0.0.2') // the VPC resolver of 10.0.0.0/16
    expect(dhcp.fix).toContain('Route 53 Resolver')
  })

  it("the VPC resolver's own address (CIDR base +2) passes like AmazonProvidedDNS", async () => {
    labNetwork(lab.aws.inventory).setDhcpDnsServers(['10.0.0.2'])
    const { dhcp } = await doctor()
    expect(dhcp.status).toBe('pass')
    expect(dhcp.seen).toContain('domain-name-servers 10.0.0.2')
  })
})
