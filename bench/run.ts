import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dnsBench } from './dns.js'
import { httpBench } from './http.js'

// Side-by-side ratios against the raw libraries, in one process and one run. Bounded in count.
const quick = process.argv.includes('--quick')
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length)
const header = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}${quick ? ' (quick)' : ''}`
console.log(header)
const dns =
  only === undefined || only === 'dns'
    ? await dnsBench(quick ? 20_000 : 200_000)
    : { results: [], markdown: '(skipped)' }
console.log(`\n## DNS: cached lookups\n\n${dns.markdown}`)
const http =
  only === undefined || only === 'http'
    ? await httpBench(quick ? 4_000 : 20_000)
    : { throughput: [], failover: [], connects: [], markdown: '(skipped)' }
console.log(`\n## HTTP: dispatcher vs undici Agent, 16 in flight\n\n${http.markdown}`)
const report = `# Benchmark results\n\n${header}\n\n## DNS: cached lookups\n\n${dns.markdown}\n\n## HTTP: dispatcher vs undici Agent, 16 in flight\n\n${http.markdown}\n`
if (!quick && only === undefined) {
  writeFileSync(new URL('./results/latest.md', import.meta.url), report)
  writeFileSync(
    new URL('./results/latest.json', import.meta.url),
    `${JSON.stringify({ header, dns: dns.results, http }, null, 2)}\n`,
  )
}
