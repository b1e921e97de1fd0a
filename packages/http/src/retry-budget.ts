/**
 * smithy's retry quota: a bucket shared by every request of one dispatcher. A retry takes tokens,
 * a success puts some back. In a long 503 storm the bucket empties and requests fail at their
 * first answer instead of tripling the load on a service that is already struggling.
 */
export class RetryBudget {
  readonly capacity: number
  #available: number

  constructor(capacity: number) {
    this.capacity = capacity
    this.#available = capacity
  }

  get available(): number {
    return this.#available
  }

  /** Takes `cost` tokens if there are that many. */
  take(cost: number): boolean {
    if (cost > this.#available) return false
    this.#available -= cost
    return true
  }

  /** After a success: the last retry's cost back if it was retried, else one token (smithy's NO_RETRY_INCREMENT). */
  refund(amount: number): void {
    this.#available = Math.min(this.capacity, this.#available + amount)
  }
}
