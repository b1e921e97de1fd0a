import { createServer, type Server } from 'node:net'

/**
 * The port on `127.X.0.1` whose listener is block X's lease. Binding is the arbiter: the kernel
 * lets one socket hold an address and port, so two labs (in one process or in two) can never
 * both lease X, and a lab that dies releases its block with its process. Below 32768, out of
 * Linux's ephemeral range, so no outgoing connection happens to hold it.
 */
export const LEASE_PORT = 28_411
/** Blocks chosen automatically: X in 16..250. Blocks outside it are only taken when asked for. */
export const AUTO_BLOCKS = { first: 16, last: 250 } as const

export interface AddressBlock {
  /** X in `127.X.0.0/16`. */
  readonly octet: number
  /** `127.X.0.0/16`. */
  readonly cidr: string
  /** Zone `n`'s (1-based) "ENI" address: `127.X.n.1`. */
  zoneAddress(zone: number): string
  release(): Promise<void>
}

function listen(host: string, port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy())
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

function block(octet: number, lease: Server): AddressBlock {
  return {
    octet,
    cidr: `127.${octet}.0.0/16`,
    zoneAddress: (zone) => `127.${octet}.${zone}.1`,
    release: () => new Promise<void>((resolve) => lease.close(() => resolve())),
  }
}

function noLoopbackError(octet: number, cause: unknown): Error {
  return Object.assign(
    new Error(
      `lab: cannot bind 127.${octet}.0.1: this system routes only part of 127.0.0.0/8 to loopback (macOS does)`,
    ),
    { cause },
  )
}

/**
 * Leases a `127.X.0.0/16` block no other lab holds: `octet` when given, else the first free X
 * from a random start in 16..250 (a random start keeps concurrent labs from probing in step).
 */
export async function leaseAddressBlock(
  octet?: number,
  random: () => number = Math.random,
): Promise<AddressBlock> {
  if (octet !== undefined) {
    try {
      return block(octet, await listen(`127.${octet}.0.1`, LEASE_PORT))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRNOTAVAIL') throw noLoopbackError(octet, error)
      if (code !== 'EADDRINUSE') throw error
      throw Object.assign(
        new Error(
          `lab: address block 127.${octet}.0.0/16 is taken (127.${octet}.0.1:${LEASE_PORT} is bound by another lab or process); leave addressBlock unset to get a free block`,
        ),
        { cause: error },
      )
    }
  }
  const span = AUTO_BLOCKS.last - AUTO_BLOCKS.first + 1
  const start = Math.floor(random() * span)
  for (let step = 0; step < span; step++) {
    const candidate = AUTO_BLOCKS.first + ((start + step) % span)
    try {
      return block(candidate, await listen(`127.${candidate}.0.1`, LEASE_PORT))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRNOTAVAIL') throw noLoopbackError(candidate, error)
      if (code !== 'EADDRINUSE') throw error
    }
  }
  throw new Error(
    `lab: every address block 127.${AUTO_BLOCKS.first}-${AUTO_BLOCKS.last}.0.0/16 is taken (is something listening on 0.0.0.0:${LEASE_PORT}?)`,
  )
}
