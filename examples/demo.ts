import { runDemo } from './run-demo.js'

const summary = await runDemo()
console.log(
  summary.errors === 0
    ? '\nDone: no request failed while a zone was down.'
    : `\n${summary.errors} requests failed.`,
)
process.exitCode = summary.errors === 0 ? 0 : 1
