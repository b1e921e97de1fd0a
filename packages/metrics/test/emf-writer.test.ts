import { channel } from 'node:diagnostics_channel'
import { createEmfWriter, withEmfMetrics } from '@privatelink/metrics'
import { afterEach, describe, expect, it } from 'vitest'
import { dimensionValue, emfDocuments } from '../src/emf-document.js'
import { emfProblems } from './emf-spec.js'

const publish = (name: string, message: Record<string, unknown>) => channel(name).publish(message)
const NOW = Date.UTC(2026, 11, 7, 21, 0, 0)

const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

function writer(options: Parameters<typeof createEmfWriter>[0] = {}) {
  const lines: string[] = []
  const w = createEmfWriter({ write: (line) => lines.push(line), clock: () => NOW, ...options })
  closers.push(() => w.close())
  return { w, lines, documents: () => lines.map((line) => JSON.parse(line)) }
}

describe('createEmfWriter', () => {
  it('writes one valid EMF document per set of dimension values: counters summed, durations as values in seconds', () => {
    const { w, lines, documents } = writer()
    const connect = { endpointId: 'vpce-0abc', azName: 'us-west-2a', azId: 'usw2-az1', port: 5432 }
    publish('privatelink:connector:connect', { ...connect, durationMs: 4 })
    publish('privatelink:connector:connect', { ...connect, durationMs: 6 })
    publish('privatelink:connector:connect', { ...connect, azName: 'us-west-2b', durationMs: 8 })
    publish('privatelink:pg:pinning', {
      cause: 'set',
      hint: 'h',
      proxyHost: 'p',
      user: 'app_user',
      zone: 'usw2-az1',
    })
    expect(w.flush()).toBe(3)
    for (const line of lines) expect(emfProblems(line), line).toEqual([])
    const [a, b, pinning] = documents()
    expect(a).toEqual({
      'cloud.availability_zone': 'us-west-2a',
      'privatelink.connector.connections': 2,
      'privatelink.connector.connect.duration': [0.004, 0.006],
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [
          {
            Namespace: 'PrivateLink',
            Dimensions: [['cloud.availability_zone']],
            Metrics: [
              { Name: 'privatelink.connector.connections', Unit: 'Count' },
              { Name: 'privatelink.connector.connect.duration', Unit: 'Seconds' },
            ],
          },
        ],
      },
    })
    expect(b).toMatchObject({
      'cloud.availability_zone': 'us-west-2b',
      'privatelink.connector.connections': 1,
    })
    expect(pinning).toMatchObject({
      'privatelink.pinning.cause': 'set',
      'privatelink.client': 'pg',
      'privatelink.rds_proxy.pinned_statements': 1,
    })
    expect(lines.join('\n')).not.toContain('app_user')
    // Flushed: the next flush has nothing to write.
    expect(w.flush()).toBe(0)
    expect(lines).toHaveLength(3)
  })

  it('dimensions: only the attributes named become dimensions; a document with none has an empty set', () => {
    const { w, documents } = writer({ namespace: 'Orders/PrivateLink', dimensions: [] })
    publish('privatelink:dns:blocked', { hostname: 'a.example', address: '52.1.2.3' })
    publish('privatelink:dns:blocked', { hostname: 'b.example', address: '52.1.2.4' })
    w.flush()
    const [only, ...rest] = documents()
    expect(rest).toEqual([])
    expect(only['privatelink.dns.refused_answers']).toBe(2)
    expect(only._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Orders/PrivateLink',
      Dimensions: [[]],
    })
  })

  it('close() flushes, then records nothing more', () => {
    const { w, lines } = writer()
    publish('privatelink:dns:blocked', { hostname: 'a.example', address: '52.1.2.3' })
    w.close()
    expect(lines).toHaveLength(1)
    publish('privatelink:dns:blocked', { hostname: 'a.example', address: '52.1.2.3' })
    expect(w.flush()).toBe(0)
  })

  it.each([
    ['namespace', { namespace: 'AWS/Lambda' }],
    ['namespace', { namespace: '' }],
    ['namespace', { namespace: 'naïve' }],
    ['dimensions', { dimensions: Array.from({ length: 31 }, (_, i) => `d${i}`) }],
    ['dimensions', { dimensions: [':colon'] }],
    ['write', { write: 'stdout' }],
    ['clock', { clock: 5 }],
    ['include', { include: ['nope'] }],
  ])('a bad %s is ERR_INVALID_OPTION naming it', (option, value) => {
    expect(() => createEmfWriter(value as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option }),
      }),
    )
  })
})

describe('emfDocuments: the specification limits', () => {
  it('more than 100 metrics and more than 100 values split over documents, every value kept', () => {
    const metrics = Array.from({ length: 250 }, (_, i) => ({
      name: `m${i}`,
      unit: 'Count',
      values: i === 0 ? Array.from({ length: 250 }, (_, v) => v) : [i],
    }))
    const lines = emfDocuments('PrivateLink', NOW, [{ dimensions: { zone: 'a' }, metrics }])
    for (const line of lines) expect(emfProblems(line)).toEqual([])
    const documents = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(documents.length).toBeGreaterThanOrEqual(3)
    const seen = new Map<string, number[]>()
    for (const document of documents)
      for (const { Name } of (
        document['_aws'] as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }
      ).CloudWatchMetrics[0]!.Metrics) {
        const value = document[Name] as number | number[]
        seen.set(Name, [...(seen.get(Name) ?? []), ...(Array.isArray(value) ? value : [value])])
      }
    expect(seen.size).toBe(250)
    expect(seen.get('m0')).toEqual(Array.from({ length: 250 }, (_, v) => v))
    expect(seen.get('m249')).toEqual([249])
  })

  it('more than 30 dimensions is refused; dimension values are made ASCII and cut at 1024', () => {
    const dimensions = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`d${i}`, 'x']))
    expect(() => emfDocuments('N', NOW, [{ dimensions, metrics: [] }])).toThrow(RangeError)
    expect(dimensionValue('zoné\n')).toBe('zon??')
    expect(dimensionValue(' ')).toBe('-')
    expect(dimensionValue('x'.repeat(2000))).toHaveLength(1024)
    expect(dimensionValue(5432)).toBe('5432')
  })

  it('the checker catches what the specification forbids (it is not a rubber stamp)', () => {
    const good = emfDocuments('N', NOW, [
      { dimensions: { z: 'a' }, metrics: [{ name: 'm', unit: 'Count', values: [1] }] },
    ])[0]!
    expect(emfProblems(good)).toEqual([])
    const bad = JSON.parse(good)
    bad['m'] = 'one'
    bad['z'] = 7
    bad._aws.CloudWatchMetrics[0].Metrics[0].Unit = 'Widgets'
    delete bad._aws.Timestamp
    expect(emfProblems(JSON.stringify(bad))).toEqual([
      '_aws.Timestamp is not ms since the epoch',
      'dimension z is not a string of 1-1024 characters',
      'metric m has an unknown Unit Widgets',
      "metric m's target member is not a number or an array of numbers",
    ])
  })
})

describe('withEmfMetrics', () => {
  it('a flush that fails neither fails the invocation nor hides its error: a warning', async () => {
    const w = createEmfWriter({
      write: () => {
        throw new Error('stdout closed')
      },
    })
    closers.push(() => {
      try {
        w.close()
      } catch {}
    })
    const warnings: string[] = []
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'PRIVATELINK_METRICS_FLUSH_FAILED') warnings.push(warning.message)
    }
    process.on('warning', onWarning)
    try {
      const handler = withEmfMetrics(w, async (event: { fail: boolean }) => {
        publish('privatelink:dns:blocked', { hostname: 'h', address: '52.1.2.3' })
        if (event.fail) throw new Error('handler failed')
        return 'ok'
      })
      await expect(handler({ fail: false }, {})).resolves.toBe('ok')
      await expect(handler({ fail: true }, {})).rejects.toThrow('handler failed')
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toContain('stdout closed')
  })

  it('flushes when the invocation returns and when it throws', async () => {
    const { w, lines } = writer()
    const handler = withEmfMetrics(w, async (event: { fail: boolean }) => {
      publish('privatelink:dns:blocked', { hostname: 'h', address: '52.1.2.3' })
      if (event.fail) throw new Error('handler failed')
      return 'ok'
    })
    await expect(handler({ fail: false }, {})).resolves.toBe('ok')
    expect(lines).toHaveLength(1)
    await expect(handler({ fail: true }, {})).rejects.toThrow('handler failed')
    expect(lines).toHaveLength(2)
    for (const line of lines) expect(emfProblems(line)).toEqual([])
  })
})
