import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Lab, labNetwork, startLab } from '../src/index.js'

let lab: Lab
beforeAll(async () => {
  lab = await startLab()
})
afterAll(() => lab?.close())

/** IMDSv2: a token, then the path with it. */
async function imds(path: string): Promise<{ status: number; body: string }> {
  const base = lab.metadata.imdsEndpoint
  const token = await fetch(`${base}/latest/api/token`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
  }).then((r) => r.text())
  const response = await fetch(`${base}/latest/meta-data/${path}`, {
    headers: { 'x-aws-ec2-metadata-token': token },
  })
  return { status: response.status, body: await response.text() }
}

describe("IMDS describes this machine's network: address, interface, security groups", () => {
  it('local-ipv4, mac, and the interface by MAC: security-group-ids, vpc-id, subnet-id', async () => {
    const network = labNetwork(lab.aws.inventory)
    const mac = (await imds('mac')).body
    expect(mac).toMatch(/^0e:1a:b0:00:00:01$/)
    expect((await imds('local-ipv4')).body).toBe('10.0.0.10')
    expect((await imds('network/interfaces/macs/')).body).toBe(`${mac}/`)
    const base = `network/interfaces/macs/${mac}`
    expect((await imds(`${base}/security-group-ids`)).body).toBe(network.state.clientGroupId)
    expect((await imds(`${base}/vpc-id`)).body).toBe(lab.endpoint.vpcId)
    expect((await imds(`${base}/subnet-id`)).body).toBe(lab.endpoint.zones[0]!.subnetId)
    expect((await imds(`${base}/local-ipv4s`)).body).toBe('10.0.0.10')
    expect((await imds('network/interfaces/macs/0e:00:00:00:00:00/vpc-id')).status).toBe(404)
    // The group is a real one: DescribeSecurityGroups lists it, with no rule of its own.
    expect(
      network.state.securityGroups.find((g) => g.groupId === network.state.clientGroupId),
    ).toMatchObject({ groupName: 'privatelink-lab-client', ingress: [] })
  })

  it('moving the machine to another zone moves it to that zone’s subnet', async () => {
    lab.metadata.setZone('us-west-2c')
    try {
      expect((await imds('local-ipv4')).body).toBe('10.0.2.10')
      const mac = (await imds('mac')).body
      expect((await imds(`network/interfaces/macs/${mac}/subnet-id`)).body).toBe(
        lab.endpoint.zones[2]!.subnetId,
      )
      expect(labNetwork(lab.aws.inventory).instance('us-west-2c')).toMatchObject({
        privateIp: '10.0.2.10',
        mac,
      })
    } finally {
      lab.metadata.setZone('us-west-2a')
    }
  })

  it('still needs the IMDSv2 token', async () => {
    const response = await fetch(`${lab.metadata.imdsEndpoint}/latest/meta-data/local-ipv4`)
    expect(response.status).toBe(401)
  })
})
