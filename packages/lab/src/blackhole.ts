import { connect, type Socket } from 'node:net'
import { Worker } from 'node:worker_threads'

// The worker listens with the smallest backlog and then blocks its own event loop, so it never
// accepts: once the kernel's accept queue is full, further SYNs are dropped and connects to this
// address never complete, like a silently dropping security group. No root, no iptables.
// It starts before the zone's listener closes and binds on a message, so the port changes hands
// within one message hop (retrying while the closed listener's handle is still being released).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const { createServer } = require('node:net')
const server = createServer()
let tries = 0
const listen = () => server.listen({ host: workerData.host, port: workerData.port, backlog: 1 })
server.on('error', (error) => {
  if (error.code === 'EADDRINUSE' && ++tries < 200) return void setTimeout(listen, 5)
  parentPort.postMessage({ error: error.message, code: error.code })
})
server.on('listening', () => {
  parentPort.postMessage({ listening: true })
  const flag = new Int32Array(workerData.flag)
  Atomics.wait(flag, 0, 0)
  server.close(() => process.exit(0))
})
parentPort.once('message', listen)
parentPort.postMessage({ ready: true })
`

export interface Blackhole {
  /** Binds the port (the caller has just closed its own listener on it) and fills the queue. */
  engage(): Promise<void>
  /** Releases the port; resolves once it is free again. */
  stop(): Promise<void>
}

type WorkerMessage = { ready?: true; listening?: true; error?: string; code?: string }

function nextMessage(worker: Worker, want: keyof WorkerMessage): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if (message.error !== undefined) {
        cleanup()
        reject(Object.assign(new Error(message.error), { code: message.code }))
      } else if (message[want] !== undefined) {
        cleanup()
        resolve(message)
      }
    }
    const onExit = () => {
      cleanup()
      reject(new Error('blackhole worker exited'))
    }
    const cleanup = () => {
      worker.off('message', onMessage)
      worker.off('error', onExit)
      worker.off('exit', onExit)
    }
    worker.on('message', onMessage)
    worker.once('error', onExit)
    worker.once('exit', onExit)
  })
}

/** Starts the worker that will hold `host:port`; `engage()` makes it bind. */
export async function prepareBlackhole(host: string, port: number): Promise<Blackhole> {
  const flag = new SharedArrayBuffer(4)
  const worker = new Worker(workerSource, { eval: true, workerData: { host, port, flag } })
  worker.unref()
  await nextMessage(worker, 'ready')
  const fillers: Socket[] = []
  let listening = false
  let exited = false
  worker.once('exit', () => {
    exited = true
  })

  return {
    async engage() {
      const bound = nextMessage(worker, 'listening')
      worker.postMessage('listen')
      await bound
      listening = true
      // Fill the accept queue: connects complete until it is full; the first that does not
      // complete within a short wait shows SYNs are being dropped.
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
    },
    async stop() {
      if (exited) return
      // Resolves once the worker is gone: its listener closed just before it exits.
      const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      if (listening) {
        Atomics.store(new Int32Array(flag), 0, 1)
        Atomics.notify(new Int32Array(flag), 0)
      } else {
        await worker.terminate()
      }
      await gone
      for (const socket of fillers) socket.destroy()
    },
  }
}
