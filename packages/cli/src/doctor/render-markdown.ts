import type { CheckResult, DoctorReport } from './check.js'

const ICON: Record<CheckResult['status'], string> = {
  pass: 'pass',
  warn: '**warn**',
  fail: '**FAIL**',
  skip: 'skip',
}

/** Text for a Markdown table cell: no pipe or line break may end the cell early. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

const title = (check: CheckResult) =>
  check.zone
    ? `${check.title} ${check.zone}`
    : check.name
      ? `${check.title} ${check.name}`
      : check.title

/**
 * `doctor --format markdown`: a report to paste into a ticket: the verdict, every check in a
 * table, then each problem with its fix and the commands in a shell block.
 */
export function renderMarkdown(report: DoctorReport, commandLine: string): string {
  const { pass, warn, fail, skip } = report.summary
  const lines = [
    `## privatelink doctor: ${report.ok ? 'no problem found' : `${fail} problem${fail === 1 ? '' : 's'} found`}`,
    '',
    `\`${commandLine}\``,
    '',
    `${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed${skip > 0 ? `, ${skip} skipped` : ''}.`,
    '',
    '| status | check | seen |',
    '| --- | --- | --- |',
    ...report.checks.map((c) => `| ${ICON[c.status]} | ${cell(title(c))} | ${cell(c.seen)} |`),
  ]
  const problems = report.checks.filter((c) => c.status === 'fail' || c.status === 'warn')
  if (problems.length > 0) {
    lines.push('', '### What to do')
    for (const check of problems) {
      const status = check.code === undefined ? check.status : `${check.status}, ${check.code}`
      lines.push('', `**${cell(title(check))}** (${status}): ${check.seen}`)
      if (check.fix !== undefined) lines.push('', check.fix)
      if (check.commands !== undefined) lines.push('', '```sh', ...check.commands, '```')
    }
  }
  return lines.join('\n')
}
