import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

const endpoint = JSON.stringify({
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  serviceName: 'com.amazonaws.us-west-2.secretsmanager',
  dnsName: 'vpce-0123456789abcdef0-abcdefgh.secretsmanager.us-west-2.vpce.amazonaws.com',
  zones: [{ azName: 'us-west-2a', addresses: ['127.0.0.1'] }],
})

describe('import cost', () => {
  it('importing @privatelink/http loads neither the AWS SDK, the Smithy handler nor this package', async () => {
    const output = await runWithDeniedModules(
      `const http = await import(${JSON.stringify(sourceOf('http'))});
       const dispatcher = http.createEndpointDispatcher({ endpoint: ${endpoint}, locality: null });
       await dispatcher.close();
       console.log('imported', typeof http.createEndpointDispatcher);`,
      ['@aws-sdk', '@smithy/undici-http-handler', '@smithy/core', '@privatelink/aws-sdk'],
    )
    expect(output).toContain('imported function')
  })

  it('importing @privatelink/aws-sdk and building a handler pulls in no @aws-sdk/* package: clients are yours', async () => {
    const output = await runWithDeniedModules(
      `const aws = await import(${JSON.stringify(sourceOf('aws-sdk'))});
       const handler = aws.createAwsRequestHandler({ endpoint: ${endpoint}, locality: null });
       await handler.close();
       console.log('hosts', handler.hostnames.join(' '));`,
      ['@aws-sdk'],
    )
    expect(output).toContain('hosts ')
    expect(output).toContain('secretsmanager.us-west-2.amazonaws.com')
  })
})
