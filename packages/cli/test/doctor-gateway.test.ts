import { type Lab, labNetwork } from '@privatelink/lab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../src/index.js'
import { cli, type DoctorLab, labEnv, schemaValidator, startDoctorLab } from './support.js'

const NAME = 'api.saas.example.com'
const S3 = 'com.amazonaws.us-west-2.s3'
let lab: Lab
let ca: DoctorLab['ca']
let stop: DoctorLab['stop'] | undefined
let serviceName: string

beforeAll(async () => {
  ;({ lab, ca, stop } = await startDoctorLab(NAME))
  serviceName = labEndpoint().serviceName
})
afterAll(() => stop?.())
afterEach(() => {
  labNetwork(lab.aws.inventory).reset()
  labEndpoint().serviceName = serviceName
})

const labEndpoint = () =>
  lab.aws.inventory.endpoints.find((e) => e.vpcEndpointId === lab.endpoint.id)!
const network = () => labNetwork(lab.aws.inventory)
const doctor = async (target: string) => {
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
    { env: labEnv(lab) },
  )
  const report = JSON.parse(run.stdout) as DoctorReport
  expect((await schemaValidator())('doctor.schema.json', report)).toEqual([])
  return {
    code: run.code,
    report,
    gateway: report.checks.filter((c) => c.id === 'endpoint.gateway'),
    route: report.checks.find((c) => c.id === 'endpoint.gatewayRoute'),
  }
}
const mySubnet = () => network().instance('us-west-2a').subnetId
const mainTable = () => lab.aws.inventory.network!.routeTables.find((t) => t.main)!.routeTableId

describe('doctor: S3 / DynamoDB gateway endpoints and their route tables', {
  timeout: 60_000,
}, () => {
  it('another service: no gateway line at all', async () => {
    const { code, gateway } = await doctor(lab.endpoint.id)
    expect(code).toBe(0)
    expect(gateway).toEqual([])
  })

  it('an S3 interface endpoint, no gateway endpoint in the VPC: passes, the only private path', async () => {
    labEndpoint().serviceName = S3
    const { code, report, gateway } = await doctor(lab.endpoint.id)
    expect(code).toBe(0)
    expect(report.summary.warn).toBe(0)
    expect(gateway).toMatchObject([
      {
        status: 'pass',
        seen: `no gateway endpoint for ${S3} in ${lab.endpoint.vpcId}: this interface endpoint is the VPC's only private path to S3`,
      },
    ])
  })

  it('an S3 gateway endpoint in the main route table: a warning naming it, its table and prefix list', async () => {
    labEndpoint().serviceName = S3
    const gatewayId = network().addGatewayEndpoint('s3')
    // A DynamoDB gateway is another service's: not named.
    network().addGatewayEndpoint('dynamodb')
    const { code, gateway } = await doctor(lab.endpoint.id)
    expect(code).toBe(0)
    expect(gateway).toHaveLength(1)
    expect(gateway[0]!.status).toBe('warn')
    expect(gateway[0]!.seen).toBe(
      `S3 gateway endpoint ${gatewayId} in ${mainTable()} (main: subnets without a table of their own) via pl-68a54001: from subnets on that table, S3 traffic to its regional name takes the gateway, not ${lab.endpoint.id}`,
    )
    expect(gateway[0]!.fix).toContain(`address it by its vpce- DNS names`)
    expect(gateway[0]!.fix).toContain(
      `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${gatewayId}`,
    )
  })

  it('doctor on the gateway endpoint itself: its route tables, and nothing that needs interfaces', async () => {
    const gatewayId = network().addGatewayEndpoint('s3')
    const routed = await doctor(gatewayId)
    expect(routed.code).toBe(0)
    expect(routed.report.checks.map((c) => c.id)).toEqual([
      'endpoint.found',
      'endpoint.gateway',
      'endpoint.gatewayRoute',
      'endpoint.policy',
    ])
    expect(routed.gateway[0]).toMatchObject({
      status: 'pass',
      seen: `${gatewayId} (${S3}) is a gateway endpoint, routed in ${mainTable()} (main: subnets without a table of their own) via pl-68a54001: it has no interfaces, DNS names or ports, so only its routes and policy are checked`,
    })
    // This machine (the lab's IMDS instance) has no table of its own: the main one routes it.
    expect(routed.route).toMatchObject({
      status: 'pass',
      seen: `this machine's subnet ${mySubnet()} uses ${mainTable()} (the VPC's main table: it has none of its own), which routes pl-68a54001 to ${gatewayId}`,
    })
    // AWS's default policy on a gateway endpoint: full access, a warning like on any endpoint.
    expect(routed.report.checks[3]!.status).toBe('warn')

    const gateway = lab.aws.inventory.endpoints.find((e) => e.vpcEndpointId === gatewayId)!
    gateway.routeTableIds = []
    const unrouted = await doctor(gatewayId)
    expect(unrouted.code).toBe(1)
    expect(unrouted.gateway[0]).toMatchObject({
      status: 'fail',
      seen: `${gatewayId} (${S3}) is a gateway endpoint in no route table: no subnet's traffic takes it`,
      commands: [
        `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${gatewayId} --add-route-table-ids ${mainTable()}`,
      ],
    })
  })

  it("this machine's subnet on its own route table without the gateway's route: the gateway fails for it, with the table to add", async () => {
    const gatewayId = network().addGatewayEndpoint('s3')
    const own = network().addSubnetRouteTable(mySubnet())
    const run = await doctor(gatewayId)
    expect(run.code).toBe(1)
    // The gateway itself is routed (from the main table): its own line passes.
    expect(run.gateway[0]!.status).toBe('pass')
    expect(run.route).toMatchObject({
      status: 'fail',
      seen: `this machine's subnet ${mySubnet()} uses ${own} (its own table), which has no route to ${gatewayId}: this machine's ${S3} traffic does not take the gateway (it goes out by the Internet or NAT gateway, or nowhere), and a bucket policy that requires the endpoint refuses it`,
      commands: [
        `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${gatewayId} --add-route-table-ids ${own}`,
      ],
    })
    // Run the fix as AWS does it (the table gets the prefix-list route): the same line passes.
    lab.aws.inventory
      .network!.routeTables.find((t) => t.routeTableId === own)!
      .routes.push({ destinationPrefixListId: 'pl-68a54001', gatewayId })
    const fixed = await doctor(gatewayId)
    expect(fixed.code).toBe(0)
    expect(fixed.route).toMatchObject({
      status: 'pass',
      seen: `this machine's subnet ${mySubnet()} uses ${own} (its own table), which routes pl-68a54001 to ${gatewayId}`,
    })
  })

  it("an S3 interface endpoint beside a gateway: this machine's table decides whether its traffic bypasses the interface endpoint", async () => {
    labEndpoint().serviceName = S3
    const gatewayId = network().addGatewayEndpoint('s3')
    const routed = await doctor(lab.endpoint.id)
    expect(routed.route).toMatchObject({
      status: 'warn',
      seen: `this machine's subnet ${mySubnet()} uses ${mainTable()} (the VPC's main table: it has none of its own), which routes pl-68a54001 to ${gatewayId}: from this machine, traffic to ${S3}'s regional name takes the gateway, not ${lab.endpoint.id}`,
    })
    expect(routed.route!.fix).toContain(`--remove-route-table-ids ${mainTable()}`)
    const own = network().addSubnetRouteTable(mySubnet())
    const bypassed = await doctor(lab.endpoint.id)
    expect(bypassed.route).toMatchObject({
      status: 'pass',
      seen: `this machine's subnet ${mySubnet()} uses ${own} (its own table), which has no route to ${gatewayId}: the gateway is not on this machine's path`,
    })
  })

  it('no instance metadata: the route line is a skip saying what to check, never a guess', async () => {
    const gatewayId = network().addGatewayEndpoint('s3')
    const run = await cli(['doctor', gatewayId, '--json'], {
      env: labEnv(lab, { AWS_EC2_METADATA_DISABLED: 'true' }),
    })
    const route = (JSON.parse(run.stdout) as DoctorReport).checks.find(
      (c) => c.id === 'endpoint.gatewayRoute',
    )
    expect(route).toMatchObject({
      status: 'skip',
      seen: "this machine's subnet is unknown (no EC2 instance metadata): its route table not checked",
    })
    expect(run.code).toBe(0)
  })
})
