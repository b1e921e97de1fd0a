// A plain HTTPS server in its own process, so the client's CPU figures are the client's alone.
import { createServer } from 'node:https'

const server = createServer(
  { cert: process.env.BENCH_CERT, key: process.env.BENCH_KEY, keepAliveTimeout: 60_000 },
  (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
      res.end('ok')
    })
  },
)
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }))
process.on('disconnect', () => process.exit(0))
