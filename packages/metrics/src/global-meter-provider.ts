import { createRequire } from 'node:module'
import type { MeterProvider } from '@opentelemetry/api'
import { PrivateLinkError } from '@privatelink/base'

/**
 * The global MeterProvider (`metrics.getMeterProvider()`), with @opentelemetry/api loaded only
 * now: it is an optional peer (the EMF writer needs none of it, and a Lambda cold start should
 * not pay ~40 ms for it). The API keeps its global on `globalThis`, so this copy sees the
 * provider the app registered through its own. `load`: a seam for the test of a missing API.
 */
export function globalMeterProvider(
  load: () => typeof import('@opentelemetry/api') = () =>
    createRequire(import.meta.url)('@opentelemetry/api'),
): MeterProvider {
  let api: typeof import('@opentelemetry/api')
  try {
    api = load()
  } catch (cause) {
    throw new PrivateLinkError(
      'ERR_METRICS_NO_OPENTELEMETRY',
      'enableMetrics() found no @opentelemetry/api to take the global MeterProvider from',
      {
        hint: 'Install @opentelemetry/api next to @privatelink/metrics, or pass { meterProvider } (in a bundle, always pass it). For CloudWatch without OpenTelemetry, use createEmfWriter().',
        details: { module: '@opentelemetry/api' },
        cause,
      },
    )
  }
  return api.metrics.getMeterProvider()
}
