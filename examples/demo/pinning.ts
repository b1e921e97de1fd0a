import type { RdsProxyFront } from '@privatelink/lab'
import type { Pool } from './app.js'

/**
 * Step 2's pinning note: a session setting sent outside a transaction pins the RDS Proxy session
 * (the pool warns once, however often it is sent; the lab's proxy logs what RDS Proxy would),
 * then the fix, on a fresh connection: SET LOCAL inside a transaction, which pins nothing.
 * The process warning itself is printed by the demo's warning listener (examples/demo.ts).
 */
export async function showPinning(
  pool: Pool,
  proxy: RdsProxyFront,
  log: (line: string) => void,
): Promise<void> {
  const proxyLog: string[] = []
  const stop = proxy.onEvent((event) => {
    if (event.type === 'pinned' && event.message !== undefined) proxyLog.push(event.message)
  })
  try {
    log("   pg pinning: SET application_name = 'orders-api', twice, outside a transaction:")
    const client = await pool.connect()
    try {
      await client.query("SET application_name = 'orders-api'")
      await client.query("SET application_name = 'orders-api'")
      // The warning is emitted on the next tick: let it print before the proxy's line.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      // A pinned session stays pinned until it closes: close this one.
      client.release(true)
    }
    for (const line of proxyLog) log(`   RDS Proxy log: ${line}`)
    const pinnedBefore = proxyLog.length
    const countedBefore = pool.stats().pinning['set'] ?? 0
    await pool.query("BEGIN; SET LOCAL application_name = 'orders-api'; SELECT 1; COMMIT")
    const fixed = proxyLog.length === pinnedBefore && pool.stats().pinning['set'] === countedBefore
    log(
      `   the fix: BEGIN; SET LOCAL application_name = 'orders-api'; ...; COMMIT: ${fixed ? 'no warning, the proxy pinned nothing' : 'STILL PINNED'} (pool stats: ${countedBefore} SET counted, warned once)`,
    )
    if (!fixed) throw new Error('SET LOCAL in a transaction pinned the session')
  } finally {
    stop()
  }
}
