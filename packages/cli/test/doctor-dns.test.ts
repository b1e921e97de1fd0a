import { type Lab, labNetwork } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { CheckResult, DoctorReport } from '../src/index.js'
import { cli, type DoctorLab, labEnv, schemaValidator, startDoctorLab } from './support.js'

const NAME = 'api.saas.example.com'
let lab: Lab
let ca: DoctorLab['ca']
let stop: DoctorLab['stop'] | undefined

beforeAll(async () => {
  ;({ lab, ca, stop } = await startDoctorLab(NAME))
})
afterAll(() => stop?.())
afterEach(() => labNetwork(lab.aws.inventory).reset())

const network = () => labNetwork(lab.aws.inventory)
const doctor = async (target: string, env: Record<string, string> = {}) => {
  const run = await cli(
    [
      'doctor',
      target,
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
  expect((await schemaValidator())('doctor.schema.json', report)).toEqual([])
  const check = (id: string, name?: string): CheckResult =>
    report.checks.find((c) => c.id === id && (name === undefined || c.name === name))!
  return { code: run.code, report, check }
}
const vpcId = () => lab.endpoint.vpcId!
const aliasCommand = (zoneId: string) =>
  `aws route53 change-resource-record-sets --hosted-zone-id ${zoneId} --change-batch '${JSON.stringify(
    {
      Changes: [
        {
          Action: 'UPSERT',
          ResourceRecordSet: {
            Name: NAME,
            Type: 'A',
            AliasTarget: {
              HostedZoneId: 'Z1YSA3EXCYUU9Z',
              DNSName: lab.endpoint.dnsName,
              EvaluateTargetHealth: false,
            },
          },
        },
      ],
    },
  )}'`

describe('doctor explains a name that does not resolve to the endpoint (lab DNS faults)', {
  timeout: 60_000,
}, () => {
  it('healthy lab: the hosted-zone line passes, no warning; an unrelated zone is listed, not blamed', async () => {
    const healthy = await doctor(lab.endpoint.id)
    expect(healthy.code).toBe(0)
    expect(healthy.report.summary).toMatchObject({ warn: 0, fail: 0, skip: 0 })
    expect(healthy.check('dns.hostedZones')).toMatchObject({
      status: 'pass',
      seen: `no private hosted zone is associated with ${vpcId()}`,
    })
    network().addHostedZone('corp.internal', { dns: lab.dns })
    const unrelated = await doctor(NAME)
    expect(unrelated.code).toBe(0)
    expect(unrelated.check('dns.hostedZones').seen).toBe(
      `1 associated with ${vpcId()} (corp.internal), none answers the endpoint's names`,
    )
    expect(lab.aws.requests.filter((r) => r.service === 'route53').at(-1)).toEqual({
      service: 'route53',
      action: 'ListHostedZonesByVPC',
      status: 200,
    })
  })

  it('private DNS on: a zone above the name does not shadow it (its own zone is more specific)', async () => {
    const zoneId = network().addHostedZone('saas.example.com', { dns: lab.dns })
    const run = await doctor(NAME)
    expect(run.code).toBe(0)
    expect(run.check('dns.hostedZones').seen).toBe(
      `1 associated with ${vpcId()} (saas.example.com), none answers the endpoint's names`,
    )
    expect(zoneId).toMatch(/^Z/)
  })

  it('private DNS off, a zone above the name: NXDOMAIN explained by the zone, fixed by private DNS on', async () => {
    network().disablePrivateDns({ dns: lab.dns })
    const zoneId = network().addHostedZone('saas.example.com', { dns: lab.dns })
    const run = await doctor(NAME)
    expect(run.code).toBe(1)
    const explanation = `private hosted zone ${zoneId} (saas.example.com, no record besides SOA and NS) associated with ${vpcId()}: it answers every name under saas.example.com in this VPC, ${NAME} included (private DNS is off on ${lab.endpoint.id})`
    const enable = `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${lab.endpoint.id} --private-dns-enabled`
    expect(run.check('dns.hostedZones')).toMatchObject({
      status: 'fail',
      seen: `${explanation}: ${NAME} did not resolve to the endpoint`,
      commands: [enable],
    })
    const dns = run.check('dns.resolve', NAME)
    expect(dns.status).toBe('fail')
    expect(dns.seen).toContain(`${NAME} has no address records`)
    expect(dns.fix).toBe(`Explained by ${explanation}.`)
    expect(dns.commands).toEqual([enable])
    // The vpce- name is not under the zone: it still passes.
    expect(run.check('dns.resolve', lab.endpoint.dnsName).status).toBe('pass')
    // GetHostedZone gave the record count.
    expect(lab.aws.requests.some((r) => r.action === 'GetHostedZone')).toBe(true)
  })

  it('a zone of the name itself with a stale address: explained by it, fixed by an alias to the endpoint', async () => {
    network().disablePrivateDns({ dns: lab.dns })
    const zoneId = network().addHostedZone(NAME, {
      dns: lab.dns,
      records: { [NAME]: ['10.0.9.9'] },
    })
    const run = await doctor(NAME)
    const dns = run.check('dns.resolve', NAME)
    expect(dns.seen).toContain(`-> 10.0.9.9: private, but not an address of ${lab.endpoint.id}`)
    expect(dns.fix).toMatch(
      new RegExp(
        `^Explained by private hosted zone ${zoneId} \\(api\\.saas\\.example\\.com, 3 records\\)`,
      ),
    )
    expect(dns.commands).toEqual([aliasCommand(zoneId)])
  })

  it('a zone whose record is the endpoint: passes, named', async () => {
    network().disablePrivateDns({ dns: lab.dns })
    const zoneId = network().addHostedZone('saas.example.com', {
      dns: lab.dns,
      records: { [NAME]: lab.endpoint.zones.map((z) => z.addresses[0]!) },
    })
    const run = await doctor(NAME)
    // Private DNS off is still its own line (a warning or fail by the target), not this one.
    expect(run.check('dns.resolve', NAME).status).toBe('pass')
    expect(run.check('dns.hostedZones')).toMatchObject({
      status: 'pass',
      seen: `private hosted zone ${zoneId} (saas.example.com, 3 records) answers ${NAME} with the endpoint's addresses`,
    })
  })

  it('a zone for amazonaws.com shadows the vpce- names: the fix takes it off the VPC', async () => {
    const zoneId = network().addHostedZone('amazonaws.com', { dns: lab.dns })
    const run = await doctor(lab.endpoint.id)
    expect(run.code).toBe(1)
    const dns = run.check('dns.resolve', lab.endpoint.dnsName)
    expect(dns.fix).toMatch(
      new RegExp(`^Explained by private hosted zone ${zoneId} \\(amazonaws\\.com`),
    )
    expect(dns.commands).toEqual([
      `aws route53 disassociate-vpc-from-hosted-zone --hosted-zone-id ${zoneId} --vpc VPCRegion=us-west-2,VPCId=${vpcId()}`,
    ])
    // The private name's own (managed) zone is more specific: not shadowed.
    expect(run.check('dns.resolve', NAME).status).toBe('pass')
  })

  it('private DNS disabled: the public answer is explained by it, with the command that turns it on', async () => {
    network().disablePrivateDns({ dns: lab.dns, publicAddresses: ['52.94.133.131'] })
    const run = await doctor(NAME)
    expect(run.code).toBe(1)
    const dns = run.check('dns.resolve', NAME)
    expect(dns.seen).toContain("-> 52.94.133.131: public, not the endpoint's addresses")
    expect(dns.fix).toBe(
      `Explained by private DNS disabled on ${lab.endpoint.id}: ${NAME} answers as outside the VPC.`,
    )
    expect(dns.commands).toEqual([
      `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${lab.endpoint.id} --private-dns-enabled`,
    ])
  })

  it('enableDnsHostnames off: the name that does not resolve is explained by the attribute', async () => {
    network().disableVpcDns('enableDnsHostnames', { dns: lab.dns })
    const run = await doctor(NAME)
    const dns = run.check('dns.resolve', NAME)
    expect(dns.fix).toBe(
      `Explained by enableDnsHostnames false on ${vpcId()}: private DNS does not answer in this VPC.`,
    )
    expect(dns.commands).toEqual([
      `aws ec2 modify-vpc-attribute --vpc-id ${vpcId()} --enable-dns-hostnames`,
    ])
    expect(run.check('vpc.enableDnsHostnames').commands).toEqual(dns.commands)
  })

  it('enableDnsSupport off: no name answers, each explained by the attribute', async () => {
    network().disableVpcDns('enableDnsSupport', { dns: lab.dns })
    const run = await doctor(lab.endpoint.id)
    const lines = run.report.checks.filter((c) => c.id === 'dns.resolve')
    expect(lines.map((c) => c.status)).toEqual(['fail', 'fail'])
    for (const line of lines) {
      expect(line.seen).toMatch(/timed out/)
      expect(line.fix).toBe(
        `Explained by enableDnsSupport false on ${vpcId()}: the VPC resolver (the VPC CIDR base +2) answers nothing.`,
      )
    }
    // The attribute's own line says what it breaks: nothing answers (not "resolves publicly").
    expect(run.check('vpc.enableDnsSupport').seen).toBe(
      `false on ${vpcId()}: the Amazon DNS server (the VPC's CIDR base +2) does not answer in this VPC, so no name resolves through it`,
    )
  })

  it('Route 53 unreachable is a warning; an emulated EC2 API without a Route 53 endpoint is a skip, never a call to AWS', async () => {
    const refused = await doctor(lab.endpoint.id, {
      AWS_ENDPOINT_URL_ROUTE_53: 'http://127.0.0.1:9',
    })
    expect(refused.check('dns.hostedZones')).toMatchObject({
      status: 'warn',
      seen: expect.stringMatching(/^ListHostedZonesByVPC failed: /),
      fix: expect.stringContaining(`aws route53 list-hosted-zones-by-vpc --vpc-id ${vpcId()}`),
    })
    const env = labEnv(lab)
    delete env['AWS_ENDPOINT_URL_ROUTE_53']
    const run = await cli(['doctor', lab.endpoint.id, '--dns', lab.dns.address, '--json'], { env })
    const skipped = (JSON.parse(run.stdout) as DoctorReport).checks.find(
      (c) => c.id === 'dns.hostedZones',
    )
    expect(skipped).toMatchObject({
      status: 'skip',
      seen: `the EC2 API is at ${lab.aws.endpoint} and no Route 53 endpoint is set: private hosted zones not checked`,
    })
  })
})
