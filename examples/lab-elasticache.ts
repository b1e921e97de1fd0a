// The @privatelink/lab README's ElastiCache example, runnable: `pnpm tsx examples/lab-elasticache.ts`
// (REDIS_URL picks the redis-server; else 127.0.0.1:6379). test/lab-quickstart.test.ts runs it
// and checks that the README shows the lines between the `readme:` markers as they are.
import { elastiCacheFront, startLab } from '@privatelink/lab'
import { createRedis } from '@privatelink/redis'

/** Runs the README example against the redis-server at `upstream`: what GET answered. */
export async function labElastiCache(upstream: { host: string; port: number }) {
  // readme:start
  const cache = elastiCacheFront({ cacheName: 'lab-cache', upstream })
  const lab = await startLab({
    fronts: [cache],
    services: [{ name: 'redis', port: 6379, target: { front: 'elasticache' } }],
  })
  // cache.hostname: 'master.lab-cache.<id>.usw2.cache.amazonaws.com' (known once started)
  const redis = createRedis({
    endpoint: lab.endpoint, // dials the zones' addresses
    servername: cache.hostname, // TLS is verified against the cache's name, as with ElastiCache
    tls: { ca: lab.ca.certificatePem },
    auth: {
      iam: {
        userId: 'app-user', // any user ID unless the front's `users` lists them
        cacheName: cache.cacheName, // the token is signed for the cache's name
        region: lab.region,
        credentials: lab.aws.credentials, // the lab's key (or lab.aws.issueSession(), or AssumeRole)
      },
    },
    locality: { source: 'options', azId: 'usw2-az1' }, // "we run in us-west-2a"
  })
  try {
    await redis.set('lab:greeting', 'hello')
    const greeting = await redis.get('lab:greeting') // 'hello'; cache.stats().authenticated: 1
    // readme:end
    return { greeting, stats: cache.stats() }
    // readme:start
  } finally {
    await redis.quit()
    await lab.close()
  }
  // readme:end
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379')
  const { greeting } = await labElastiCache({ host: url.hostname, port: Number(url.port || 6379) })
  console.log(greeting)
}
