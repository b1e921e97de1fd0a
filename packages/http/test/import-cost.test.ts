import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

describe('import cost', () => {
  it('importing @privatelink/http loads neither the EC2 client, the signer nor a SHA-256', async () => {
    const output = await runWithDeniedModules(
      `const http = await import(${JSON.stringify(sourceOf('http'))});
       const dispatcher = http.createEndpointDispatcher({
         endpoint: { id: 'vpce-0123456789abcdef0', dnsName: 'vpce-0123456789abcdef0-abcdefgh.execute-api.us-west-2.vpce.amazonaws.com', zones: [{ azName: 'us-west-2a', addresses: ['127.0.0.1'] }] },
         locality: null,
       });
       const interceptor = http.sigv4({ region: 'us-west-2', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } });
       await dispatcher.close();
       console.log('imported', typeof http.createEndpointDispatcher, typeof interceptor);`,
      [
        '@aws-sdk/client-ec2',
        '@smithy/signature-v4',
        '@smithy/hash-node',
        '@aws-crypto/sha256-js',
        '@aws-crypto/sha256-browser',
      ],
    )
    expect(output).toContain('imported function function')
  })
})
