import type pg from 'pg'

// What this package relies on from pg-pool beyond its documented API, in this one file; each is
// pinned by pg-pool-internals.test.ts, so a pg-pool upgrade that changes one fails there first.
//
// - Clients are built as `new Client(poolOptions)` from a shallow copy of the pool's options
//   (symbol keys included): private-link-client.ts passes its context that way.
// - 'acquire' is emitted before the checkout's callback, 'release' before the client is filed
//   idle (or removed): a client's checked-out flag follows them (public events; the order is
//   what is pinned). Measured: two listeners add ~20 ns per query (pg.Pool's SELECT 1 costs
//   ~25 µs), so pg-pool's private `_idle` list is never read.
// - Each checkout assigns the client its own `client.release` (private-link-client.ts keeps it
//   behind an accessor and hands it back wrapped), and `release(true)` removes the client instead
//   of reusing it, also when a checkout is waiting (that part is documented).
// - removeIdle, below.

/**
 * Removes an idle pooled client at once, through pg-pool's own path for an idle client whose
 * connection fails: its 'error' reaches pg-pool's idle listener, which takes the client out of
 * the idle list synchronously (before any checkout can pick it), ends it, and re-emits the error
 * on the pool. That an erroring idle client is removed and reported on the pool is documented;
 * that it happens synchronously is pg-pool 3.x's implementation. A client nobody listens to
 * (not pooled, or not idle) is left alone: returns false.
 */
export function removeIdle(client: pg.Client, error: Error): boolean {
  if (client.listenerCount('error') === 0) return false
  client.emit('error', error)
  return true
}
