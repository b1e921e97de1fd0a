import { mkdirSync, writeFileSync } from 'node:fs'
import { ratioChart } from './chart.js'
import { dnsBench } from './dns.js'
import { httpBench } from './http.js'
import { comparisonTable, machine } from './measure.js'

// Side-by-side ratios against the raw libraries, in one process and one run. Bounded in count.
const quick = process.argv.includes('--quick')
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length)
const runs = (name: string) => only === undefined || only.split(',').includes(name)
const header = `${machine()}, ${new Date().toISOString()}${quick ? ' (quick)' : ''}`
console.log(header)

const sections: string[] = []
const json: Record<string, unknown> = { header }
const charts: Record<string, string> = {}

if (runs('dns')) {
  const dns = await dnsBench(quick ? 20_000 : 200_000)
  json['dns'] = dns.results
  sections.push(`## DNS: cached lookups\n\n${dns.markdown}`)
  console.log(sections.at(-1))
}
if (runs('http')) {
  const http = await httpBench({ quick })
  json['http'] = http
  charts['http-steady.svg'] = ratioChart(http.steady)
  charts['warm-zone-loss.svg'] = http.warm.svg
  sections.push(
    `## HTTP: endpoint dispatcher vs undici Agent\n\n${comparisonTable(http.steady)}\n\n![http ratios](http-steady.svg)\n\n${http.markdown}`,
  )
  console.log(sections.at(-1))
}

if (!quick && only === undefined) {
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    new URL('latest.md', dir),
    `# Benchmark results\n\n${header}\n\n${sections.join('\n\n')}\n`,
  )
  writeFileSync(new URL('latest.json', dir), `${JSON.stringify(json, null, 2)}\n`)
  for (const [name, svg] of Object.entries(charts)) writeFileSync(new URL(name, dir), svg)
}
