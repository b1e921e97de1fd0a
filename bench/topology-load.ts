import type { Lab } from '@privatelink/lab'

/** One operation as the load saw it: when it began (s since the phase began), how long, how it ended. */
export interface OpSample {
  t: number
  ms: number
  ok: boolean
  /** The error code (or 'deadline'), for the report. */
  error?: string
}

/** One client under test: an operation (SELECT 1, GET/SET, an HTTP GET) and its close. */
export interface Client {
  op(index: number): Promise<unknown>
  close(): Promise<void>
}

/**
 * An operation with no answer within this long counts as failed, and its worker moves on (the
 * operation itself stays pending, holding its connection): an application's request deadline.
 */
export const DEADLINE_MS = 3_000

const codeOf = (error: unknown): string => {
  const e = error as { code?: unknown; name?: unknown; message?: unknown }
  return String(e?.code ?? e?.name ?? e?.message ?? error).slice(0, 60)
}

/**
 * Closed-loop load: `concurrency` workers, each issuing the next operation when its last one
 * settled or passed the deadline, until `operations` were issued or `until()` says stop.
 */
export async function drive(
  client: Client,
  options: { concurrency: number; operations?: number; until?: () => boolean; zero?: number },
): Promise<OpSample[]> {
  const samples: OpSample[] = []
  const zero = options.zero ?? performance.now()
  const stuck: Promise<unknown>[] = []
  let issued = 0
  const more = () =>
    options.operations !== undefined ? issued < options.operations : !options.until?.()
  const worker = async () => {
    while (more()) {
      const index = issued++
      const begin = performance.now()
      const sample: OpSample = { t: (begin - zero) / 1000, ms: 0, ok: true }
      samples.push(sample)
      const operation = client.op(index).then(
        () => {
          sample.ms = performance.now() - begin
        },
        (error: unknown) => {
          sample.ms = performance.now() - begin
          sample.ok = false
          sample.error = codeOf(error)
        },
      )
      let timer: NodeJS.Timeout | undefined
      const late = await Promise.race([
        operation.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), DEADLINE_MS)
        }),
      ])
      clearTimeout(timer)
      if (late) {
        sample.ok = false
        sample.error = 'deadline'
        // Its duration is known once it settles (restore delivers held bytes), else the wait.
        sample.ms = DEADLINE_MS
        stuck.push(
          operation.then(() => {
            sample.ms = Math.max(DEADLINE_MS, performance.now() - begin)
            sample.ok = false
            sample.error = 'deadline'
          }),
        )
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  // Operations past the deadline: their real duration, if they end within a few seconds more.
  await Promise.race([Promise.all(stuck), new Promise((resolve) => setTimeout(resolve, 3_000))])
  return samples
}

/** Zone name -> a number, for each of the lab's zones in order. */
export type PerZone = Record<string, number>

/** Connections each zone accepted and bytes relayed (and how many crossed zones), now. */
export function snapshot(lab: Lab, service: string) {
  const accepted: PerZone = {}
  const active: PerZone = {}
  for (const zone of lab.endpoint.zones) {
    const stats = lab.zone(zone.azName).stats()[service]!
    accepted[zone.azName] = stats.accepted
    active[zone.azName] = stats.active
  }
  const traffic = lab.topology!.traffic()
  let cross = 0
  for (const zone of Object.values(traffic.zones)) cross += zone.crossZoneBytes
  return { accepted, active, bytes: traffic.bytes, crossBytes: cross }
}

/**
 * What happened between two snapshots: connections each zone accepted (health checks included),
 * connections opened and still open, bytes, the cross-zone share.
 */
export function delta(before: ReturnType<typeof snapshot>, after: ReturnType<typeof snapshot>) {
  const connections: PerZone = {}
  const open: PerZone = {}
  for (const zone of Object.keys(after.accepted)) {
    connections[zone] = after.accepted[zone]! - (before.accepted[zone] ?? 0)
    open[zone] = after.active[zone]! - (before.active[zone] ?? 0)
  }
  const bytes = after.bytes - before.bytes
  const crossBytes = after.crossBytes - before.crossBytes
  return { connections, open, bytes, crossZoneShare: bytes === 0 ? 0 : crossBytes / bytes }
}
