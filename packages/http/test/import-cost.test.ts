import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

describe('import cost', () => {
  it('importing @privatelink/http does not load @aws-sdk/client-ec2', async () => {
    const output = await runWithDeniedModules(
      `const http = await import(${JSON.stringify(sourceOf('http'))});
       console.log('imported', typeof http.createEndpointDispatcher, typeof http.sigv4);`,
      ['@aws-sdk/client-ec2'],
    )
    expect(output).toContain('imported function function')
  })
})
