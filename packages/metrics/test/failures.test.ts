import { channel } from 'node:diagnostics_channel'
import type { MeterProvider } from '@opentelemetry/api'
import { enableMetrics } from '@privatelink/metrics'
import { describe, expect, it } from 'vitest'
import { globalMeterProvider } from '../src/global-meter-provider.js'
import { onDemandMetrics } from './otel-reader.js'

describe('failures', () => {
  it('no @opentelemetry/api to take the global provider from: ERR_METRICS_NO_OPENTELEMETRY with a hint', () => {
    const missing = Object.assign(new Error("Cannot find module '@opentelemetry/api'"), {
      code: 'MODULE_NOT_FOUND',
    })
    expect(() =>
      globalMeterProvider(() => {
        throw missing
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_METRICS_NO_OPENTELEMETRY',
        hint: expect.stringContaining('meterProvider'),
        cause: missing,
      }),
    )
  })

  it('an instrument that throws never reaches the publisher: one process warning, then silence', async () => {
    const sdk = onDemandMetrics()
    const meter = sdk.meterProvider.getMeter('test')
    const broken = {
      getMeter: () => ({
        ...meter,
        createCounter: () => ({
          add: () => {
            throw new Error('exporter is down')
          },
        }),
        createHistogram: meter.createHistogram.bind(meter),
      }),
    } as unknown as MeterProvider
    const warnings: string[] = []
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'PRIVATELINK_METRICS_RECORD_FAILED') warnings.push(warning.message)
    }
    process.on('warning', onWarning)
    const stop = enableMetrics({ meterProvider: broken })
    try {
      const blocked = channel('privatelink:dns:blocked')
      expect(() => blocked.publish({ hostname: 'h', address: '52.1.2.3' })).not.toThrow()
      expect(() => blocked.publish({ hostname: 'h', address: '52.1.2.3' })).not.toThrow()
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      stop()
      process.off('warning', onWarning)
      await sdk.shutdown()
    }
    expect(warnings).toEqual([
      expect.stringMatching(/recording privatelink:dns:blocked failed \(exporter is down\)/),
    ])
  })
})
