import { EC2Client } from '@aws-sdk/client-ec2'
import { createEndpointDiscovery } from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let lab: Lab
beforeAll(async () => {
  lab = await startLab()
})
afterAll(() => lab.close())

describe('the discovery cache', () => {
  it('is keyed by who asks: other credentials or another client ask again', async () => {
    const discovery = createEndpointDiscovery({ cacheTtlMs: 60_000 })
    const base = { endpoint: lab.aws.endpoint, region: lab.region, maxAttempts: 1 }
    const asked = () => lab.aws.requests.length
    const before = asked()
    const accountA = { ...base, credentials: lab.aws.credentials }
    await discovery.discover({ endpointId: lab.endpoint.id, ec2ClientConfig: accountA })
    await discovery.discover({ endpointId: lab.endpoint.id, ec2ClientConfig: { ...accountA } })
    // One discovery: DescribeVpcEndpoints, DescribeNetworkInterfaces, DescribeSubnets.
    expect(asked() - before).toBe(3)
    // Another principal (here a session from the lab's STS) is another question.
    const session = lab.aws.issueSession()
    await discovery.discover({
      endpointId: lab.endpoint.id,
      ec2ClientConfig: { ...base, credentials: session },
    })
    expect(asked() - before).toBe(6)
    // Two ready clients: each gets its own answer; the same client is served from the cache.
    const clientA = new EC2Client(accountA)
    const clientB = new EC2Client(accountA)
    await discovery.discover({ endpointId: lab.endpoint.id, client: clientA })
    await discovery.discover({ endpointId: lab.endpoint.id, client: clientA })
    await discovery.discover({ endpointId: lab.endpoint.id, client: clientB })
    expect(asked() - before).toBe(12)
    clientA.destroy()
    clientB.destroy()
  })
})
