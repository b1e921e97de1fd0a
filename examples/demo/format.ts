/** Output helpers: plain text everywhere, colour only on a terminal without NO_COLOR. */
export interface Style {
  green(text: string): string
  red(text: string): string
  bold(text: string): string
  dim(text: string): string
}

export function style(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Style {
  const on = stream.isTTY === true && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb'
  const sgr = (open: number, close: number) => (text: string) =>
    on ? `\u001b[${open}m${text}\u001b[${close}m` : text
  return { green: sgr(32, 39), red: sgr(31, 39), bold: sgr(1, 22), dim: sgr(2, 22) }
}

/** `0.8ms`, `12ms`, `2.41s`. */
export function ms(value: number): string {
  if (value < 10) return `${value.toFixed(1)}ms`
  if (value < 1000) return `${Math.round(value)}ms`
  return `${(value / 1000).toFixed(2)}s`
}

/** Seconds with one decimal: `2.3 s`. */
export function seconds(valueMs: number): string {
  return `${(valueMs / 1000).toFixed(1)} s`
}

/** The p-th percentile (0..100) of `values`; 0 when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)]!
}

export function count(value: number): string {
  return value.toLocaleString('en-US')
}
