import { execFile } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Lab, labNetwork, startLab } from '../src/index.js'

const NAME = 'api.saas.example.com'
let lab: Lab
const resolver = new Resolver({ timeout: 500, tries: 1 })

beforeAll(async () => {
  lab = await startLab({ privateDnsName: NAME })
  resolver.setServers([lab.dns.address])
})
afterAll(() => lab?.close())
afterEach(() => labNetwork(lab.aws.inventory).reset())

const network = () => labNetwork(lab.aws.inventory)
/** The A records the lab's DNS answers, or the DNS error code (ENOTFOUND for NXDOMAIN). */
const answer = (name: string) =>
  resolver.resolve4(name).catch((error: { code?: string }) => error.code ?? 'error')

const awsCli = promisify(execFile)
const hasAwsCli = await awsCli('aws', ['--version']).then(
  () => true,
  () => false,
)
const cliEnv = (secret = lab.aws.credentials.secretAccessKey) => ({
  PATH: process.env['PATH'],
  HOME: process.env['HOME'],
  AWS_ACCESS_KEY_ID: lab.aws.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: secret,
  AWS_DEFAULT_REGION: lab.region,
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
})
const route53 = async (...args: string[]) => {
  const { stdout } = await awsCli(
    'aws',
    ['route53', ...args, '--endpoint-url', lab.aws.endpoint, '--output', 'json'],
    { env: cliEnv() },
  )
  return JSON.parse(stdout)
}

describe('DNS faults: a shadowing zone, private DNS off, VPC DNS attributes off', () => {
  it('healthy: no hosted zone; every name answers the endpoint', async () => {
    expect(network().state.hostedZones).toEqual([])
    expect(await answer(NAME)).toEqual(lab.endpoint.zones.map((z) => z.addresses[0]))
  })

  it('a zone above the private name answers NXDOMAIN for it (no record), or the record it holds, once private DNS is off', async () => {
    // Private DNS on: its own zone is the name itself, more specific than the parent zone.
    network().addHostedZone('saas.example.com', { dns: lab.dns })
    expect(await answer(NAME)).toHaveLength(3)
    network().reset()
    network().disablePrivateDns()
    network().addHostedZone('saas.example.com', { dns: lab.dns })
    expect(await answer(NAME)).toBe('ENOTFOUND')
    // The vpce- names are not under it.
    expect(await answer(lab.endpoint.dnsName)).toHaveLength(3)
    network().reset()
    expect(await answer(NAME)).toHaveLength(3)

    network().disablePrivateDns()
    network().addHostedZone('example.com.', { dns: lab.dns, records: { [NAME]: ['10.9.9.9'] } })
    expect(await answer(NAME)).toEqual(['10.9.9.9'])
    expect(network().state.hostedZones[0]).toMatchObject({
      name: 'example.com',
      vpcIds: [lab.endpoint.vpcId],
      records: { [NAME]: ['10.9.9.9'] },
    })
  })

  it('a zone for amazonaws.com shadows the vpce- names too', async () => {
    network().addHostedZone('amazonaws.com', { dns: lab.dns })
    expect(await answer(lab.endpoint.dnsName)).toBe('ENOTFOUND')
    expect(await answer(lab.endpoint.zones[0]!.dnsName!)).toBe('ENOTFOUND')
  })

  it('private DNS disabled: the flag, and the private name answers publicly; reset undoes both', async () => {
    network().disablePrivateDns({ dns: lab.dns, publicAddresses: ['52.94.133.131'] })
    const endpoint = lab.aws.inventory.endpoints[0]!
    expect(endpoint.privateDnsEnabled).toBe(false)
    expect(await answer(NAME)).toEqual(['52.94.133.131'])
    expect(await answer(lab.endpoint.dnsName)).toHaveLength(3)
    network().reset()
    expect(endpoint.privateDnsEnabled).toBe(true)
    expect(await answer(NAME)).toHaveLength(3)
  })

  it('enableDnsHostnames off: the private name does not resolve; enableDnsSupport off: nothing does', async () => {
    const attributes = lab.aws.inventory.vpcAttributes.get(lab.endpoint.vpcId ?? '')!
    network().disableVpcDns('enableDnsHostnames', { dns: lab.dns })
    expect(attributes.enableDnsHostnames).toBe(false)
    expect(await answer(NAME)).toBe('ENOTFOUND')
    network().reset()
    network().disableVpcDns('enableDnsSupport', { dns: lab.dns })
    expect(attributes).toEqual({ enableDnsSupport: false, enableDnsHostnames: true })
    expect(await answer(lab.endpoint.dnsName)).toBe('ETIMEOUT')
    network().reset()
    expect(attributes).toEqual({ enableDnsSupport: true, enableDnsHostnames: true })
    expect(await answer(lab.endpoint.dnsName)).toHaveLength(3)
  })
})

// The machine has the AWS CLI v1 (botocore): Route 53 is REST-XML, its parser must accept it too.
describe.skipIf(!hasAwsCli)('Route 53 (REST-XML) as the AWS CLI reads it', () => {
  it('list-hosted-zones-by-vpc and get-hosted-zone', async () => {
    const empty = await route53(
      'list-hosted-zones-by-vpc',
      '--vpc-id',
      lab.endpoint.vpcId!,
      '--vpc-region',
      lab.region,
    )
    expect(empty.HostedZoneSummaries).toEqual([])
    const id = network().addHostedZone('saas.example.com', { records: { [NAME]: ['10.9.9.9'] } })
    const listed = await route53(
      'list-hosted-zones-by-vpc',
      '--vpc-id',
      lab.endpoint.vpcId!,
      '--vpc-region',
      lab.region,
    )
    expect(listed.HostedZoneSummaries).toEqual([
      {
        HostedZoneId: id,
        Name: 'saas.example.com.',
        Owner: { OwningAccount: lab.aws.accountId },
      },
    ])
    expect(listed.MaxItems).toBe('100')
    const zone = await route53('get-hosted-zone', '--id', id)
    expect(zone.HostedZone).toMatchObject({
      Id: `/hostedzone/${id}`,
      Name: 'saas.example.com.',
      Config: { PrivateZone: true },
      ResourceRecordSetCount: 3,
    })
    expect(zone.VPCs).toEqual([{ VPCRegion: lab.region, VPCId: lab.endpoint.vpcId }])
    expect(lab.aws.requests.slice(-3)).toEqual([
      { service: 'route53', action: 'ListHostedZonesByVPC', status: 200 },
      { service: 'route53', action: 'ListHostedZonesByVPC', status: 200 },
      { service: 'route53', action: 'GetHostedZone', status: 200 },
    ])
  })

  it('paging, a missing zone, a bad VPC ID, a bad signature: the errors Route 53 answers', async () => {
    for (const name of ['a.example', 'b.example', 'c.example']) network().addHostedZone(name)
    const paged = await route53(
      'list-hosted-zones-by-vpc',
      '--vpc-id',
      lab.endpoint.vpcId!,
      '--vpc-region',
      lab.region,
      '--max-items',
      '2',
    )
    // --max-items is the API's maxitems here (no CLI paginator): the rest comes with NextToken.
    expect(paged.HostedZoneSummaries).toHaveLength(2)
    expect(paged.MaxItems).toBe('2')
    const rest = await route53(
      'list-hosted-zones-by-vpc',
      '--vpc-id',
      lab.endpoint.vpcId!,
      '--vpc-region',
      lab.region,
      '--next-token',
      paged.NextToken,
    )
    expect(rest.NextToken).toBeUndefined()
    expect(
      [...paged.HostedZoneSummaries, ...rest.HostedZoneSummaries]
        .map((z: { Name: string }) => z.Name)
        .sort(),
    ).toEqual(['a.example.', 'b.example.', 'c.example.'])
    const fail = (args: string[], env = cliEnv()) =>
      awsCli('aws', ['route53', ...args, '--endpoint-url', lab.aws.endpoint], { env }).then(
        () => '',
        (error: { stderr: string }) => error.stderr,
      )
    expect(await fail(['get-hosted-zone', '--id', 'Z0000000000NOPE'])).toContain(
      'An error occurred (NoSuchHostedZone) when calling the GetHostedZone operation: No hosted zone found with ID: Z0000000000NOPE',
    )
    expect(
      await fail(['list-hosted-zones-by-vpc', '--vpc-id', 'vpc-nope', '--vpc-region', lab.region]),
    ).toContain('(InvalidVPCId)')
    expect(
      await fail(['get-hosted-zone', '--id', 'Z0000000000NOPE'], cliEnv('not-the-secret')),
    ).toContain('(SignatureDoesNotMatch)')
  })
})
