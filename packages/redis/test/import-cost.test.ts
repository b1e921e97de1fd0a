import { describe, expect, it } from 'vitest'
import { runWithDeniedModules, sourceOf } from '../../../test/support/import-probe.js'

describe('import cost', () => {
  it('importing @privatelink/redis and creating a token provider loads neither the EC2 client, the signer nor the credential chain', async () => {
    const output = await runWithDeniedModules(
      `const redis = await import(${JSON.stringify(sourceOf('redis'))});
       const provider = redis.createElastiCacheTokenProvider({ userId: 'u', cacheName: 'c', region: 'us-west-2' });
       console.log('imported', typeof redis.createRedis, typeof redis.createRedisCluster, typeof provider.getToken);`,
      [
        '@aws-sdk/client-ec2',
        '@smithy/signature-v4',
        '@smithy/hash-node',
        '@aws-sdk/credential-providers',
      ],
    )
    expect(output.trim()).toBe('imported function function function')
  })
})
