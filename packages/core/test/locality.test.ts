import { createConnector, detectLocality, type Endpoint, findOwnZone } from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let lab: Lab
beforeAll(async () => {
  lab = await startLab()
})
afterAll(() => lab.close())

// Never let a test fall through to the real IMDS address.
const isolated = { AWS_EC2_METADATA_DISABLED: 'true' }

describe('detectLocality', () => {
  it('takes options, then PRIVATELINK_AZ_ID / PRIVATELINK_AZ', async () => {
    expect(await detectLocality({ azId: 'usw2-az2', env: isolated })).toEqual({
      source: 'options',
      azId: 'usw2-az2',
    })
    expect(
      await detectLocality({
        env: { ...isolated, PRIVATELINK_AZ_ID: 'usw2-az3', AWS_REGION: 'us-west-2' },
      }),
    ).toEqual({
      source: 'env',
      azId: 'usw2-az3',
      region: 'us-west-2',
    })
    expect(await detectLocality({ env: { ...isolated, PRIVATELINK_AZ: 'us-west-2b' } })).toEqual({
      source: 'env',
      azName: 'us-west-2b',
    })
  })

  it('asks the Lambda metadata endpoint for the AZ ID', async () => {
    lab.metadata.setZone('us-west-2b')
    expect(await detectLocality({ env: lab.metadata.env('lambda') })).toEqual({
      source: 'lambda',
      azId: 'usw2-az2',
      region: 'us-west-2',
    })
    const wrongToken = { ...lab.metadata.env('lambda'), AWS_LAMBDA_METADATA_TOKEN: 'nope' }
    expect(await detectLocality({ env: wrongToken })).toEqual({
      source: 'unknown',
      region: 'us-west-2',
    })
  })

  it('reads ECS task metadata v4', async () => {
    lab.metadata.setZone('us-west-2c')
    expect(await detectLocality({ env: { ...isolated, ...lab.metadata.env('ecs') } })).toEqual({
      source: 'ecs',
      azName: 'us-west-2c',
      region: 'us-west-2',
    })
  })

  it('reads IMDSv2 through AWS_EC2_METADATA_SERVICE_ENDPOINT', async () => {
    lab.metadata.setZone('us-west-2a')
    expect(await detectLocality({ env: lab.metadata.env('ec2') })).toEqual({
      source: 'imds',
      azName: 'us-west-2a',
      azId: 'usw2-az1',
      region: 'us-west-2',
    })
  })

  it('falls through quickly when IMDS hangs (hop limit 1 in a container)', async () => {
    lab.metadata.setHang(true)
    try {
      expect(await detectLocality({ env: lab.metadata.env('ec2'), timeoutMs: 50 })).toEqual({
        source: 'unknown',
        region: 'us-west-2',
      })
    } finally {
      lab.metadata.setHang(false)
    }
  })

  it('stops at once when the caller aborts', async () => {
    lab.metadata.setHang(true)
    try {
      const controller = new AbortController()
      const pending = detectLocality({
        env: lab.metadata.env('ec2'),
        timeoutMs: 60_000,
        signal: controller.signal,
      })
      controller.abort()
      expect((await pending).source).toBe('unknown')
    } finally {
      lab.metadata.setHang(false)
    }
  })
})

describe('own zone matching', () => {
  it('cross-account: the AZ ID wins over a name that means another zone here', async () => {
    // The provider's account calls usw2-az2 "us-west-2a"; ours calls it "us-west-2b".
    lab.metadata.setZone('us-west-2b')
    const locality = await detectLocality({ env: lab.metadata.env('ec2') })
    const sharedConfig: Endpoint = {
      ...lab.endpoint,
      zones: lab.endpoint.zones.map((zone, index) => ({
        ...zone,
        azName: ['us-west-2c', 'us-west-2a', 'us-west-2b'][index]!,
      })),
    }
    expect(findOwnZone(sharedConfig.zones, locality)?.azId).toBe('usw2-az2')
    expect(findOwnZone(sharedConfig.zones, { source: 'options', azName: 'us-west-2b' })?.azId).toBe(
      'usw2-az3',
    )
    const connector = createConnector({ endpoint: sharedConfig, locality, port: 1 })
    expect(connector.preferredZones()[0]!.addresses).toEqual(
      lab.endpoint.zones.find((zone) => zone.azId === 'usw2-az2')!.addresses,
    )
  })

  it('a known AZ ID that matches no zone does not fall back to the name', () => {
    expect(
      findOwnZone(lab.endpoint.zones, { source: 'lambda', azId: 'usw2-az9', azName: 'us-west-2a' }),
    ).toBeUndefined()
    expect(
      findOwnZone(
        lab.endpoint.zones.map(({ azId: _id, ...z }) => z),
        { source: 'imds', azId: 'usw2-az9', azName: 'us-west-2a' },
      )?.azName,
    ).toBe('us-west-2a')
  })
})
