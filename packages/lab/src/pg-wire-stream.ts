/**
 * Cuts a relayed stream of typed PostgreSQL messages (after the startup phase) at message
 * boundaries without holding it up: the relay forwards every chunk as it comes; this only watches.
 * Bodies are kept only for the message types `keep` asks for, and only up to its limit, so a
 * 1 GB COPY goes through in constant memory.
 */
export class MessageStream {
  readonly #onMessage: (type: string, length: number, body: Buffer | undefined) => void
  readonly #keep: (type: string) => number
  #header: Buffer = Buffer.alloc(0)
  #type = ''
  #length = 0
  #remaining = 0
  #parts: Buffer[] | undefined
  #inMessage = false
  #broken = false

  /**
   * @param onMessage called once per complete message; `body` when kept
   * @param keep the largest body to keep for a message type (0: keep none)
   */
  constructor(
    onMessage: (type: string, length: number, body: Buffer | undefined) => void,
    keep: (type: string) => number,
  ) {
    this.#onMessage = onMessage
    this.#keep = keep
  }

  /** False once a length made no sense: the stream is then out of step and no longer read. */
  get inStep(): boolean {
    return !this.#broken
  }

  push(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length && !this.#broken) {
      if (!this.#inMessage) {
        const need = 5 - this.#header.length
        const take = chunk.subarray(offset, offset + need)
        this.#header = this.#header.length === 0 ? take : Buffer.concat([this.#header, take])
        offset += take.length
        if (this.#header.length < 5) return
        this.#type = String.fromCharCode(this.#header[0]!)
        this.#length = this.#header.readInt32BE(1)
        this.#header = Buffer.alloc(0)
        if (this.#length < 4) {
          this.#broken = true
          return
        }
        this.#remaining = this.#length - 4
        this.#parts = this.#remaining <= this.#keep(this.#type) ? [] : undefined
        this.#inMessage = true
      }
      const take = Math.min(this.#remaining, chunk.length - offset)
      if (take > 0) {
        this.#parts?.push(chunk.subarray(offset, offset + take))
        offset += take
        this.#remaining -= take
      }
      if (this.#remaining === 0) {
        this.#inMessage = false
        const body = this.#parts === undefined ? undefined : Buffer.concat(this.#parts)
        this.#parts = undefined
        this.#onMessage(this.#type, this.#length, body)
      }
    }
  }
}
