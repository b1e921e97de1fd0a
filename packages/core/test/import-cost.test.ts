import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

describe('import cost', () => {
  it('importing @privatelink/core does not load @aws-sdk/client-ec2; discovery does', async () => {
    const output = await runWithDeniedModules(
      `
      const core = await import(${JSON.stringify(sourceOf('core'))});
      console.log('imported', typeof core.createConnector);
      try {
        await core.discoverEndpoint({ endpointId: 'vpce-0123456789abcdef0' });
      } catch (error) {
        console.log(error.code, String(error.cause?.message ?? ''));
      }`,
      ['@aws-sdk/client-ec2'],
    )
    expect(output).toContain('imported function')
    // The positive control: the lazy import in discovery is the one place that asks for the SDK.
    expect(output).toContain('ERR_MISSING_DEPENDENCY DENIED_MODULE @aws-sdk/client-ec2')
  })
})
