import type { createPool } from '@privatelink/pg'

export interface OrderEvent {
  orderId: number
}

/** The function's work, given the pool (the test runs it against the lab). */
export function orderHandler(db: ReturnType<typeof createPool>) {
  return async (event: OrderEvent): Promise<{ orderId: number; checkedAt: string }> => {
    const { rows } = await db.query<{ order_id: number; checked_at: Date }>(
      'SELECT $1::int AS order_id, now() AS checked_at',
      [event.orderId],
    )
    const row = rows[0]!
    return { orderId: row.order_id, checkedAt: row.checked_at.toISOString() }
  }
}
