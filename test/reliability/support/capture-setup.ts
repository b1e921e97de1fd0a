import { basename } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import { scanCaptured, startCapture } from './capture.js'
import { record } from './summary.js'

// Every reliability file: capture from its first hook to its last, then search it all for the
// file's known secrets (each file registers what it created) and for secret-shaped strings.
beforeAll(() => {
  startCapture()
})

// biome-ignore lint/correctness/noEmptyPattern: vitest requires a destructuring pattern for the fixtures argument
afterAll(({}, suite) => {
  const { findings, scanned } = scanCaptured()
  const file = basename(suite.file?.filepath ?? suite.name ?? 'file')
  record(suite, {
    scenario: `secret scan: ${file.replace(/\.reliability\.ts$/, '')}`,
    load: scanned.texts,
    faults: 0,
    badInputs: 0,
    failures: 0,
    secrets: findings.length,
    notes: `${scanned.errors} errors, ${scanned.messages} channel messages, ${scanned.logLines} log writes, ${scanned.objects} inspected objects; ${scanned.secretsKnown} known secrets searched`,
  })
  expect(findings).toEqual([])
})
