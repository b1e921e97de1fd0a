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
      // Issue 18, item 9: 'unknown' says why, and never repeats the token.
      reasons: [
        { source: 'lambda', error: 'HTTP 401' },
        { source: 'imds', error: 'not asked on Lambda' },
      ],
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
        reasons: [{ source: 'imds', error: 'timeout' }],
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

describe('metadata calls and the global dispatcher (issue 18, item 9)', () => {
  it('an endpoint-pinned global dispatcher does not turn locality into a silent unknown', async () => {
    lab.metadata.setZone('us-west-2c')
    // undici's setGlobalDispatcher stores the dispatcher here; Node's fetch reads it from here.
    const slot = Symbol.for('undici.globalDispatcher.1')
    const globals = globalThis as Record<symbol, unknown>
    const previous = globals[slot]
    const refused: string[] = []
    // Stands for setGlobalDispatcher(anEndpointDispatcher): it refuses every other origin.
    const pinnedOnly = {
      dispatch(options: { origin?: unknown }, handler: { onError?: (error: Error) => void }) {
        refused.push(String(options.origin))
        handler.onError?.(new Error(`${String(options.origin)} is not pinned`))
        return false
      },
    }
    globals[slot] = pinnedOnly
    try {
      // The control: a fetch through the global dispatcher is refused...
      await expect(
        fetch(`${lab.metadata.env('ec2')['AWS_EC2_METADATA_SERVICE_ENDPOINT']}/`),
      ).rejects.toThrow()
      expect(refused).toHaveLength(1)
      // ...while locality's own requests never touch it.
      expect(await detectLocality({ env: lab.metadata.env('ec2') })).toMatchObject({
        source: 'imds',
        azName: 'us-west-2c',
      })
      expect(await detectLocality({ env: lab.metadata.env('ecs') })).toMatchObject({
        source: 'ecs',
        azName: 'us-west-2c',
      })
      expect(refused).toHaveLength(1)
    } finally {
      globals[slot] = previous
    }
  })

  it('a refused connection names its code', async () => {
    const locality = await detectLocality({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:1' },
    })
    expect(locality).toEqual({
      source: 'unknown',
      reasons: [{ source: 'imds', error: 'ECONNREFUSED' }],
    })
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

describe('detectLocality on ECS in a Local Zone or Wavelength Zone (issue 24, item 14)', () => {
  // An ECS agent's task metadata endpoint, on loopback: the answer is all that matters here.
  async function ecsAnswering(task: Record<string, unknown>) {
    const { createServer } = await import('node:http')
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json')
      response.end(request.url === '/v4/task' ? JSON.stringify(task) : '{}')
    })
    server.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const { port } = server.address() as { port: number }
    return {
      env: { ...isolated, ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4` },
      close: () => new Promise((resolve) => server.close(resolve)),
    }
  }

  it.each([
    ['us-west-2-lax-1a', 'us-west-2'],
    ['us-east-1-wl1-bos-wlz-1', 'us-east-1'],
    ['ap-northeast-1-tpe-1a', 'ap-northeast-1'],
    ['us-gov-west-1a', 'us-gov-west-1'],
    ['eu-central-2b', 'eu-central-2'],
  ])('%s is in %s: the parent region, not the zone name minus a letter', async (zone, region) => {
    const ecs = await ecsAnswering({ AvailabilityZone: zone })
    try {
      expect(await detectLocality({ env: ecs.env })).toEqual({
        source: 'ecs',
        azName: zone,
        region,
      })
    } finally {
      await ecs.close()
    }
  })

  it("the task ARN's region wins over the zone name, and a name without a region gives none", async () => {
    const arn = await ecsAnswering({
      AvailabilityZone: 'us-west-2-lax-1a',
      TaskARN: 'arn:aws:ecs:us-west-2:111111111111:task/app/0123456789abcdef',
    })
    try {
      expect(await detectLocality({ env: arn.env })).toMatchObject({ region: 'us-west-2' })
    } finally {
      await arn.close()
    }
    const odd = await ecsAnswering({ AvailabilityZone: 'zone-x' })
    try {
      const found = await detectLocality({ env: { ...odd.env, AWS_REGION: 'eu-west-1' } })
      // Not a zone name of any region: the environment's region, not a made-up one.
      expect(found).toEqual({ source: 'ecs', azName: 'zone-x', region: 'eu-west-1' })
    } finally {
      await odd.close()
    }
  })
})
