// `./dev demo` (pnpm demo): the whole product in under a minute, nothing to configure.
// What it shows and its output: the README's "Demo" section. Exit code 0 only with 0 failed.
import { DEMO_USAGE, parseDemoArguments } from './demo/arguments.js'
import { style } from './demo/format.js'
import type { Progress } from './demo/run-demo.js'

// --help and unknown arguments are answered before the demo's modules (the lab, the AWS SDK) load.
const parsed = parseDemoArguments(process.argv.slice(2))
if (parsed.action === 'help') {
  process.stdout.write(DEMO_USAGE)
  process.exit(0)
}
if (parsed.action === 'refuse') {
  process.stderr.write(`${parsed.message}\n\n${DEMO_USAGE}`)
  process.exit(2)
}
const { OWN_ZONE, runDemo, summaryLines } = await import('./demo/run-demo.js')

// The AWS SDK warns on every run under Node 20 that later releases will need Node 22: true, but
// not this demo's business.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'

const s = style(process.stdout, process.env)
const log = (line: string) => console.log(line)
const progress: Progress = { step: '', took: {} }
// Process warnings belong to the story (the pg pool's pinning warning, once per cause): printed as
// the demo's own lines, in order, in place of Node's default print on stderr.
process.removeAllListeners('warning')
process.on('warning', (warning: Error & { code?: string }) =>
  log(`   warning ${warning.code ?? warning.name}: ${warning.message}`),
)
const started = performance.now()

log(
  s.bold(
    'PrivateLink SDK demo: one interface endpoint, four services (PostgreSQL, MySQL, HTTPS, Redis), and a zone that goes dark',
  ),
)
try {
  const summary = await runDemo(log, s, progress)
  const lines = summaryLines(summary, OWN_ZONE)
  const last = lines.pop()!
  log('')
  for (const line of lines) log(line)
  log(summary.failed === 0 ? s.green(last) : s.red(last))
  if (summary.firstError !== undefined) {
    const e = summary.firstError
    log(s.red(`First failure (${e.kind}): ${e.code}: ${e.message}`))
    if (e.hint !== undefined) log(`hint: ${e.hint}`)
  }
  const names: Record<string, string> = {
    1: 'lab',
    2: 'app',
    3: 'failover',
    4: 'doctor',
    5: 'cleanup',
  }
  const steps = Object.entries(progress.took)
    .map(([step, took]) => `${names[step.split('.')[0]!] ?? step} ${took.toFixed(1)} s`)
    .join(', ')
  log(s.dim(`(${((performance.now() - started) / 1000).toFixed(1)} s: ${steps})`))
  process.exitCode = summary.failed === 0 ? 0 : 1
} catch (error) {
  // A short diagnosis: the step, the error, its hint; the stack only when asked for.
  const e = error as { code?: unknown; message?: unknown; hint?: unknown; stack?: unknown }
  log('')
  log(
    s.red(
      `Demo failed at step ${progress.failedAt ?? progress.step}: ${typeof e?.code === 'string' ? `${e.code}: ` : ''}${String(e?.message ?? error)}`,
    ),
  )
  if (typeof e?.hint === 'string') log(`hint: ${e.hint}`)
  if (process.env['DEBUG']) log(String(e?.stack))
  else log(s.dim('(DEBUG=1 prints the stack)'))
  process.exitCode = 1
}
// Everything was closed: the process ends on its own. If something still holds it open, say what.
setTimeout(() => {
  log(s.red(`Still running after cleanup: ${process.getActiveResourcesInfo().join(', ')}`))
  process.exit(1)
}, 5_000).unref()
