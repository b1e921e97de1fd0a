import { connect } from 'node:net'
import pg from 'pg'
import { inject } from 'vitest'

/** `SELECT 1` on the PostgreSQL the global setup found or started, with the URL it provided. */
export async function selectOne(): Promise<number> {
  const client = new pg.Client({ connectionString: inject('pgUrl') })
  await client.connect()
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one
  } finally {
    await client.end()
  }
}

/** PING on the Redis the global setup found or started ('none' when it had none). */
export async function ping(): Promise<string> {
  const url = inject('redisUrl')
  if (url === '') return 'none'
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port) })
  socket.write('PING\r\n')
  try {
    const [answer] = (await Promise.race([
      new Promise((resolve) => socket.once('data', (data) => resolve([String(data)]))),
      new Promise((_, reject) => socket.once('error', reject)),
    ])) as [string]
    return answer.trim()
  } finally {
    socket.destroy()
  }
}
