// Smoke test of an installed `privatelink` bin, for the packaging check: the tests run the CLI from
// source, so this is where the built bin (dist/cli.js from the tarball, with its dependencies as
// npm installed them) is run once end to end. Node built-ins only; traffic stays on loopback.
//
//   node packages/cli/scripts/bin-smoke.mjs <scratch>/node_modules/.bin/privatelink
//   node packages/cli/scripts/bin-smoke.mjs node --import tsx packages/cli/src/cli.ts   (from source)
//
// It checks --version and --help (exit 0), a usage error with --json (exit 2, one privatelink.error/1
// document), then starts `privatelink lab --json` in front of a TCP service, runs `privatelink doctor`
// against it with the environment the lab printed (exit 0, no SDK Node version warning), and stops the
// lab with SIGINT (exit 0, CA file removed). Exit code 0 when all hold, 1 otherwise.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'

const [command, ...prefix] = process.argv.slice(2)
if (command === undefined) {
  console.error('usage: node bin-smoke.mjs <privatelink bin> | node bin-smoke.mjs <node> <args...>')
  process.exit(2)
}

// The environment a user would have, without AWS settings or test switches.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !key.startsWith('AWS_') && !key.startsWith('PRIVATELINK_') && key !== 'NODE_OPTIONS',
  ),
)

function start(args, extraEnv = {}) {
  const child = spawn(command, [...prefix, ...args], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = { stdout: '', stderr: '' }
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output.stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output.stderr += chunk))
  const closed = once(child, 'close').then(([code, signal]) => ({ code, signal, ...output }))
  return { child, output, closed }
}

async function run(args, extraEnv) {
  const { child, closed } = start(args, extraEnv)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const result = await closed
  clearTimeout(timer)
  return result
}

let failed = 0
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) {
    failed++
    if (detail) console.log(detail.replace(/^/gm, '     '))
  }
}

const version = await run(['--version'])
check(
  version.code === 0 && /^\d+\.\d+\.\d+/.test(version.stdout),
  `--version: ${version.stdout.trim()}`,
  version.stderr,
)
const help = await run(['--help'])
check(
  help.code === 0 && help.stdout.includes('Usage: privatelink'),
  '--help: usage on stdout, exit 0',
  help.stderr,
)
const usage = await run(['lab', '--zones', '0', '--json'])
let usageDocument
try {
  usageDocument = JSON.parse(usage.stdout)
} catch {}
check(
  usage.code === 2 &&
    usageDocument?.schema === 'privatelink.error/1' &&
    usageDocument.error.option === '--zones',
  'lab --zones 0 --json: exit 2, one privatelink.error/1 document naming --zones',
  usage.stdout + usage.stderr,
)

const service = createServer((socket) => socket.end())
await new Promise((resolve) => service.listen(0, '127.0.0.1', resolve))
const lab = start([
  'lab',
  '--json',
  '--zones',
  '2',
  '--service',
  `api:8443=127.0.0.1:${service.address().port}`,
])
const labTimer = setTimeout(() => lab.child.kill('SIGKILL'), 60_000)
try {
  while (!lab.output.stderr.includes('lab running')) {
    const exited = await Promise.race([
      once(lab.child.stderr, 'data').then(() => false),
      lab.closed.then(() => true),
    ])
    if (exited) throw new Error(`lab exited early:\n${lab.output.stderr}`)
  }
  const report = JSON.parse(lab.output.stdout)
  check(
    report.schema === 'privatelink.lab/1',
    'lab --json: a privatelink.lab/1 document, lab running',
  )
  const doctor = await run(
    ['doctor', report.endpoint.id, '--dns', report.dns, '--port', '8443', '--starttls', 'none'],
    report.env,
  )
  check(
    doctor.code === 0 && doctor.stdout.includes('no problem found'),
    'doctor against the lab: exit 0, no problem found',
    doctor.stdout + doctor.stderr,
  )
  check(
    !doctor.stderr.includes('NodeVersionSupportWarning'),
    'doctor: no AWS SDK Node version warning',
  )
  lab.child.kill('SIGINT')
  const stopped = await lab.closed
  check(
    stopped.code === 0 && stopped.stderr.includes('lab stopped') && !existsSync(report.caFile),
    'SIGINT: the lab stops, exit 0, its CA file removed',
    stopped.stderr,
  )
} catch (error) {
  check(false, 'lab', String(error?.stack ?? error))
  lab.child.kill('SIGKILL')
} finally {
  clearTimeout(labTimer)
  service.close()
}
console.log(failed === 0 ? 'bin smoke test passed' : `bin smoke test: ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
