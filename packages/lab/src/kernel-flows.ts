import { execFile } from 'node:child_process'

/**
 * The kernel's count of TCP segments received per socket, read with iproute2's `ss -ti`
 * (`segs_in`, from the kernel's tcp_info through sock_diag).
 *
 * Why: a relay in user space never sees a TCP keep-alive probe. A probe carries no data (its
 * sequence number is one below the window), so the relay's kernel answers it with an ACK and
 * the relay's `read` returns nothing. The real path (endpoint, NLB, conntrack) sees the probe as a
 * packet and keeps the flow. `tcpi_last_data_recv` and `tcpi_last_ack_recv` do not move for such a
 * probe on the receiving side (measured: Linux 6.x), but `tcpi_segs_in` counts every segment that
 * reached the socket, so a count that grew while no data was relayed is a keep-alive probe (or a
 * bare ACK) from that side.
 */
export class KernelFlowView {
  #available: boolean | undefined

  /** Whether `ss` ran here (Linux with iproute2); known after the first `sample`. */
  get available(): boolean | undefined {
    return this.#available
  }

  /**
   * Segments received by each established TCP socket matching `filter` (an `ss` filter expression
   * as arguments), keyed `local|peer` (`address:port|address:port`). Undefined when `ss` cannot be
   * run here: the caller then sees data only.
   */
  async sample(filter: readonly string[]): Promise<Map<string, number> | undefined> {
    if (this.#available === false) return undefined
    const output = await new Promise<string | undefined>((resolve) => {
      execFile(
        'ss',
        ['-tinH', 'state', 'established', ...filter],
        { timeout: 5000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout) => resolve(error === null ? stdout : undefined),
      )
    })
    if (output === undefined) {
      this.#available = false
      return undefined
    }
    this.#available = true
    return parseSegmentsIn(output)
  }
}

/** `[::ffff:127.0.0.1]:5432` and `127.0.0.1:5432` name the same socket as Node reports it. */
function normalizeEndpoint(text: string): string {
  const colon = text.lastIndexOf(':')
  let address = text.slice(0, colon).replace(/^\[|\]$/g, '')
  address = address.replace(/^::ffff:/i, '').replace(/%.*$/, '')
  return `${address}:${text.slice(colon + 1)}`
}

/** A socket's key, as `sample` keys its answer. */
export function flowKey(
  localAddress: string | undefined,
  localPort: number | undefined,
  remoteAddress: string | undefined,
  remotePort: number | undefined,
): string | undefined {
  if (localAddress === undefined || remoteAddress === undefined) return undefined
  if (localPort === undefined || remotePort === undefined) return undefined
  return `${normalizeEndpoint(`${localAddress}:${localPort}`)}|${normalizeEndpoint(`${remoteAddress}:${remotePort}`)}`
}

/**
 * Parses `ss -tinH state established` output: a socket line (`Recv-Q Send-Q Local Peer`) followed
 * by an indented line of tcp_info fields, where `segs_in:N` is absent while N is 0.
 */
export function parseSegmentsIn(output: string): Map<string, number> {
  const counts = new Map<string, number>()
  let current: string | undefined
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue
    if (!/^\s/.test(line)) {
      // Recv-Q Send-Q Local Peer (no State column: the filter names the state).
      const [, , local, peer] = line.trim().split(/\s+/)
      current =
        local === undefined || peer === undefined
          ? undefined
          : `${normalizeEndpoint(local)}|${normalizeEndpoint(peer)}`
      if (current !== undefined) counts.set(current, 0)
      continue
    }
    const match = /\bsegs_in:(\d+)/.exec(line)
    if (current !== undefined && match !== null) counts.set(current, Number(match[1]))
  }
  return counts
}
