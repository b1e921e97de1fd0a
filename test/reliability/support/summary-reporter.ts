import type { Reporter, TestModule } from 'vitest/node'
import type { ReliabilityRow } from './summary.js'

const columns = ['scenario', 'load held', 'faults', 'bad inputs', 'failures', 'secrets'] as const

/** Prints every row the reliability files recorded, then the totals; failures fail the tests themselves. */
export class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows: ReliabilityRow[] = []
    const failedTests: string[] = []
    for (const module of testModules) {
      rows.push(...(module.meta().reliability ?? []))
      // A failed hook (the secret scan runs in afterAll) fails the file, not a test.
      for (const error of module.errors())
        failedTests.push(`${module.moduleId}: ${error.message ?? 'hook failed'}`)
      for (const test of module.children.allTests()) {
        rows.push(...(test.meta().reliability ?? []))
        if (test.result().state === 'failed') failedTests.push(test.fullName)
      }
    }
    if (rows.length === 0) return
    const total: ReliabilityRow = {
      scenario: 'total',
      load: 0,
      faults: 0,
      badInputs: 0,
      failures: 0,
      secrets: 0,
    }
    for (const row of rows) {
      total.load += row.load
      total.faults += row.faults
      total.badInputs += row.badInputs
      total.failures += row.failures
      total.secrets += row.secrets
    }
    const cells = (row: ReliabilityRow) => [
      row.scenario,
      String(row.load),
      String(row.faults),
      String(row.badInputs),
      String(row.failures),
      String(row.secrets),
    ]
    const body = [...rows, total].map(cells)
    const widths = columns.map((title, i) =>
      Math.min(60, Math.max(title.length, ...body.map((row) => row[i]!.length))),
    )
    const line = (values: readonly string[]) =>
      `| ${values.map((value, i) => (i === 0 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!))).join(' | ')} |`
    const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`
    const out = ['', 'Reliability summary', line(columns), rule]
    for (const row of rows) {
      out.push(line(cells(row)))
      if (row.notes !== undefined) out.push(`|   ${row.notes}`)
    }
    out.push(rule, line(cells(total)))
    const verdict =
      total.failures === 0 && total.secrets === 0 && failedTests.length === 0
        ? 'PASS: 0 failures, 0 secrets'
        : `FAIL: ${total.failures} failures, ${total.secrets} secrets, ${failedTests.length} failed tests${failedTests.length > 0 ? `: ${failedTests.join('; ')}` : ''}`
    out.push('', verdict, '')
    process.stdout.write(`${out.join('\n')}\n`)
  }
}
