import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'

/**
 * Everything the packages produce during a reliability file, kept for the secret scan at its end:
 * errors (message, stack, cause chain through util.inspect with showHidden and unlimited depth),
 * diagnostics_channel messages, log lines on the console and stdout/stderr, and util.inspect of
 * public objects. The run's own secrets are known (the lab issues them), so the scan looks for
 * them literally, plus secret-shaped strings (key IDs, SigV4 query parameters).
 */
const texts = new Set<string>()
const secrets = new Map<string, string>()
let counts = { errors: 0, messages: 0, logLines: 0, objects: 0 }

const deep = (value: unknown) =>
  inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: false })

export function addSecret(label: string, value: string | undefined): void {
  // Short strings would match by accident; every real secret here is long.
  if (value !== undefined && value.length >= 12) secrets.set(value, label)
}

export function addCredentials(
  label: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): void {
  addSecret(`${label} access key ID`, credentials.accessKeyId)
  addSecret(`${label} secret access key`, credentials.secretAccessKey)
  addSecret(`${label} session token`, credentials.sessionToken)
}

/** An IAM token, its signature and its session token, each searched for on its own. */
export function addToken(label: string, token: string): void {
  addSecret(label, token)
  const query = new URLSearchParams(token.slice(token.indexOf('?') + 1))
  addSecret(`${label} signature`, query.get('X-Amz-Signature') ?? undefined)
  addSecret(`${label} session token`, query.get('X-Amz-Security-Token') ?? undefined)
}

export function captureError(error: unknown): void {
  counts.errors++
  if (error instanceof Error) {
    texts.add(String(error.message))
    if (error.stack !== undefined) texts.add(error.stack)
  }
  texts.add(deep(error))
  try {
    texts.add(JSON.stringify(error) ?? '')
  } catch {}
}

export function captureObject(value: unknown): void {
  counts.objects++
  texts.add(deep(value))
  try {
    texts.add(JSON.stringify(value) ?? '')
  } catch {}
}

export function captureText(text: string): void {
  counts.logLines++
  texts.add(text)
}

/** Every `privatelink:<package>:<event>` channel named in the packages' sources. */
export function packageChannels(): string[] {
  const root = fileURLToPath(new URL('../../../packages/', import.meta.url))
  const names = new Set<string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path)
      else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts'))
        for (const match of readFileSync(path, 'utf8').matchAll(
          /['"`](privatelink:[a-z-]+:[a-z-]+)['"`]/g,
        ))
          names.add(match[1]!)
    }
  }
  for (const pkg of readdirSync(root)) {
    const src = join(root, pkg, 'src')
    try {
      walk(src)
    } catch {}
  }
  return [...names].sort()
}

const channelMessages = new Map<string, number>()
let stopCapture: (() => void) | undefined
let streaming = false
const streamedFindings: SecretFinding[] = []

/**
 * While on, channel messages are searched as they arrive (for the secrets known then) instead of
 * being kept: a heap measurement must not count this file's own memory of 10,000 connect events.
 */
export function streamChannelMessages(on: boolean): void {
  streaming = on
}

function keep(text: string): void {
  if (!streaming) {
    texts.add(text)
    return
  }
  streamedFindings.push(...search(text))
}

/** Starts listening on every package channel and tapping console and stdout/stderr. */
export function startCapture(): void {
  stopCapture?.()
  texts.clear()
  secrets.clear()
  channelMessages.clear()
  streamedFindings.length = 0
  streaming = false
  counts = { errors: 0, messages: 0, logLines: 0, objects: 0 }
  const listeners = packageChannels().map((name) => {
    const listener = (message: unknown) => {
      counts.messages++
      channelMessages.set(name, (channelMessages.get(name) ?? 0) + 1)
      keep(deep(message))
      try {
        keep(JSON.stringify(message) ?? '')
      } catch {}
    }
    subscribe(name, listener)
    return () => unsubscribe(name, listener)
  })
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const
  const originals = methods.map((method) => console[method])
  methods.forEach((method, i) => {
    console[method] = (...args: unknown[]) => {
      captureText(args.map((arg) => (typeof arg === 'string' ? arg : deep(arg))).join(' '))
      originals[i]!.apply(console, args)
    }
  })
  const streams = [process.stdout, process.stderr]
  const writes = streams.map((stream) => stream.write)
  streams.forEach((stream, i) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captureText(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString())
      return (writes[i] as (...args: unknown[]) => boolean).call(stream, chunk, ...rest)
    }) as typeof stream.write
  })
  stopCapture = () => {
    for (const stop of listeners) stop()
    methods.forEach((method, i) => {
      console[method] = originals[i]!
    })
    streams.forEach((stream, i) => {
      stream.write = writes[i]!
    })
    stopCapture = undefined
  }
}

export interface SecretFinding {
  what: string
  /** Up to 80 characters around the hit, with the secret itself masked. */
  context: string
}

// Secret-shaped strings: AWS access key IDs and the SigV4 query parameters an IAM token carries.
const shapes: [string, RegExp][] = [
  ['an access key ID', /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/],
  ['a SigV4 signature', /X-Amz-Signature=[0-9a-f]{16}/i],
  ['a session token parameter', /X-Amz-Security-Token=[A-Za-z0-9%]{8}/i],
  ['an Authorization header signature', /Signature=[0-9a-f]{64}/],
]

function search(text: string): SecretFinding[] {
  const found: SecretFinding[] = []
  const mask = (at: number, length: number) =>
    `${text.slice(Math.max(0, at - 40), at)}<${length} chars>${text.slice(at + length, at + length + 40)}`
  for (const [value, label] of secrets) {
    const at = text.indexOf(value)
    if (at >= 0) found.push({ what: label, context: mask(at, value.length) })
  }
  for (const [label, shape] of shapes) {
    const match = shape.exec(text)
    if (match !== null) found.push({ what: label, context: mask(match.index, match[0].length) })
  }
  return found
}

/** Stops capturing and searches everything captured. */
export function scanCaptured(): {
  findings: SecretFinding[]
  scanned: typeof counts & { texts: number; secretsKnown: number }
  channels: Record<string, number>
} {
  stopCapture?.()
  const findings: SecretFinding[] = [...streamedFindings]
  for (const text of texts) findings.push(...search(text))
  return {
    findings,
    scanned: { ...counts, texts: texts.size, secretsKnown: secrets.size },
    channels: Object.fromEntries(channelMessages),
  }
}
