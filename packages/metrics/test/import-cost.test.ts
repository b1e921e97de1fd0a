import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

// The channels are subscribed to by name: a user of pg alone must not load ioredis or undici, and
// the EMF writer (Lambda) must not pay for OpenTelemetry or aws-embedded-metrics (whose import
// starts an EC2 metadata probe outside Lambda).
const denied = [
  'pg',
  'ioredis',
  'undici',
  'mysql2',
  '@privatelink/core',
  '@privatelink/dns',
  '@privatelink/pg',
  '@privatelink/redis',
  '@privatelink/http',
  '@privatelink/mysql',
  '@opentelemetry/api',
  '@opentelemetry/sdk-metrics',
  'aws-embedded-metrics',
]

describe('import cost', () => {
  it('importing @privatelink/metrics and writing EMF loads no adapter, no driver and no OpenTelemetry', async () => {
    const output = await runWithDeniedModules(
      `import { channel } from 'node:diagnostics_channel';
       const m = await import(${JSON.stringify(sourceOf('metrics'))});
       const lines = [];
       const writer = m.createEmfWriter({ write: (line) => lines.push(line) });
       channel('privatelink:pg:pinning').publish({ cause: 'set', proxyHost: 'p', zone: 'z' });
       writer.close();
       console.log('imported', typeof m.enableMetrics, lines.length);`,
      denied,
    )
    expect(output).toContain('imported function 1')
  })
})
