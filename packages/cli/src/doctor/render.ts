import type { Palette } from '../io.js'
import type { CheckResult, CheckStatus, DoctorReport } from './check.js'

const WIDTH = 22

function badge(status: CheckStatus, colours: Palette): string {
  const word = status.padEnd(4)
  if (status === 'pass') return colours.green(word)
  if (status === 'warn') return colours.yellow(word)
  if (status === 'fail') return colours.red(colours.bold(word))
  return colours.dim(word)
}

/** `pass  endpoint state         available: 3 zones` and, below a problem, `      fix: ...`. */
export function renderCheck(result: CheckResult, colours: Palette): string[] {
  const title = result.zone ? `${result.title} ${result.zone}` : result.title
  const lines = [`${badge(result.status, colours)}  ${title.padEnd(WIDTH)} ${result.seen}`]
  if (result.fix !== undefined) lines.push(`${' '.repeat(6)}${colours.dim('fix:')} ${result.fix}`)
  for (const command of result.commands ?? [])
    lines.push(`${' '.repeat(6)}${colours.dim('run:')} ${command}`)
  return lines
}

export function renderSummary(report: DoctorReport, colours: Palette): string {
  const { pass, warn, fail, skip } = report.summary
  const parts = [`${pass} passed`, `${warn} warning${warn === 1 ? '' : 's'}`, `${fail} failed`]
  if (skip > 0) parts.push(`${skip} skipped`)
  const verdict = report.ok
    ? colours.green('no problem found')
    : colours.red(`${fail} problem${fail === 1 ? '' : 's'} found`)
  return `${parts.join(', ')}: ${verdict}`
}
