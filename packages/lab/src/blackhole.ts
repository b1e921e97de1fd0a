import { connect, type Socket } from 'node:net'
import { Worker } from 'node:worker_threads'

// The worker listens with the smallest backlog and then blocks its own event loop, so it never
// accepts: once the kernel's accept queue is full, further SYNs are dropped and connects to this
// address never complete, like a silently dropping security group. No root, no iptables.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const { createServer } = require('node:net')
const server = createServer()
server.on('error', (error) => parentPort.postMessage({ error: error.message }))
server.listen({ host: workerData.host, port: workerData.port, backlog: 1 }, () => {
  parentPort.postMessage({ listening: true })
  const flag = new Int32Array(workerData.flag)
  Atomics.wait(flag, 0, 0)
  server.close()
  process.exit(0)
})
`

export interface Blackhole {
  stop(): Promise<void>
}

export async function startBlackhole(host: string, port: number): Promise<Blackhole> {
  const flag = new SharedArrayBuffer(4)
  const worker = new Worker(workerSource, { eval: true, workerData: { host, port, flag } })
  worker.unref()
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message: { error?: string }) =>
      message.error
        ? reject(new Error(`blackhole on ${host}:${port}: ${message.error}`))
        : resolve(),
    )
    worker.once('error', reject)
  })
  // Fill the accept queue: connects complete until it is full; the first that does not complete
  // within a short wait shows SYNs are being dropped.
  const fillers: Socket[] = []
  for (let attempt = 0; attempt < 16; attempt++) {
    const socket = connect({ host, port })
    socket.on('error', () => {})
    fillers.push(socket)
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 150)
      socket.once('connect', () => {
        clearTimeout(timer)
        resolve(true)
      })
    })
    if (!connected) break
  }
  return {
    async stop() {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      Atomics.store(new Int32Array(flag), 0, 1)
      Atomics.notify(new Int32Array(flag), 0)
      await exited
      for (const socket of fillers) socket.destroy()
    },
  }
}
