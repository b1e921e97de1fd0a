import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

const signerModules = ['@smithy/signature-v4', '@smithy/hash-node', '@aws-crypto/sha256-js']

describe('sigv4 import cost', () => {
  it('importing @privatelink/http and creating sigv4() loads no signer or hash module', async () => {
    const output = await runWithDeniedModules(
      `const http = await import(${JSON.stringify(sourceOf('http'))});
       const interceptor = http.sigv4({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
       console.log('created', typeof interceptor);`,
      signerModules,
    )
    expect(output).toContain('created function')
  })

  it('the signer loads on the first signed request; a failed load reaches the handler', async () => {
    // With the signer unloadable, the first request must fail through onResponseError (proving
    // the import happens then, not at import time) and the process must not crash.
    const output = await runWithDeniedModules(
      `const http = await import(${JSON.stringify(sourceOf('http'))});
       process.on('unhandledRejection', () => { console.log('unhandled'); process.exit(1) });
       const interceptor = http.sigv4({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
       const dispatch = interceptor(() => { console.log('dispatched'); return true });
       const error = await new Promise((resolve) => dispatch(
         { origin: 'https://example.amazonaws.com', method: 'GET', path: '/' },
         { onRequestStart() {}, onResponseError: (_controller, error) => resolve(error) },
       ));
       console.log('error', error.code, error.details.stage, error.cause?.code);`,
      signerModules,
    )
    expect(output).toContain('error ERR_SIGV4_FAILED loading ERR_DENIED_MODULE')
    expect(output).not.toContain('dispatched')
  })
})
