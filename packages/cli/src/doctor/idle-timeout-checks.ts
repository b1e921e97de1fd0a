import {
  DEFAULT_PATH_IDLE_TIMEOUT_MS,
  defaultKeepAliveDelayMs,
  pathIdleLimitMs,
} from '@privatelink/core'
import type { CheckLog } from './check.js'
import type { IdleSetting, IdleSettingGroup, IdleSettingKind } from './idle-settings.js'

/**
 * The path's idle timeout: an interface endpoint forgets a TCP flow idle for 350 s (fixed), as do
 * an NLB's TLS listeners and, by default, its TCP listeners (60-6000 s); the next segment gets a
 * reset. Sources: packages/lab/README.md, "Idle flow timeout". Core's figure, so doctor and the
 * adapters agree.
 */
export const PATH_IDLE_TIMEOUT_MS = DEFAULT_PATH_IDLE_TIMEOUT_MS

const seconds = (ms: number) => `${ms} ms (${Math.round(ms / 100) / 10} s)`

/**
 * The values doctor judges by and tells users to use: core's, the ones the adapters enforce. A
 * setting at or above four fifths of the path's timeout (280 s) races it; the first keep-alive
 * probe the adapters use by default is a fifth of it, at most 60 s.
 */
function limits(pathMs: number) {
  const limit = pathIdleLimitMs(pathMs)
  return { near: limit, safe: `below ${limit}`, probe: defaultKeepAliveDelayMs(pathMs) }
}

const find = (group: IdleSettingGroup, kind: IdleSettingKind): IdleSetting | undefined =>
  group.settings.findLast((s) => s.kind === kind)

/** The option that would set the first-probe delay in this group, for the fix text. */
const delayName = (group: IdleSettingGroup) =>
  group.label === 'pg'
    ? 'pg.keepAliveInitialDelayMillis'
    : group.label === 'mysql'
      ? 'mysql.keepAliveInitialDelay'
      : group.label === 'redis'
        ? 'redis.keepAlive'
        : "the driver's keep-alive initial delay"

interface Finding {
  seen: string
  fix: string
}

/** The findings for one group of settings that act on the same connections. */
function groupFindings(group: IdleSettingGroup, pathMs: number): Finding[] {
  const { near, safe, probe } = limits(pathMs)
  const path = `the path's ${seconds(pathMs)} idle timeout`
  const findings: Finding[] = []
  const idle = find(group, 'poolIdle')
  const keepAlive = find(group, 'keepAlive')
  const delay = find(group, 'keepAliveDelay')
  const http = find(group, 'httpKeepAlive')
  const delayMs = delay?.value as number | undefined
  // Probes that refresh the flow in time: on (explicitly, or implied by a Redis delay) and early.
  const probesInTime =
    delayMs !== undefined &&
    delayMs > 0 &&
    delayMs < near &&
    (keepAlive?.value === true || group.label === 'redis')
  const idleMs = idle?.value as number | undefined
  const poolRetiresFirst = idleMs !== undefined && idleMs > 0 && idleMs < near
  if (idle !== undefined && !poolRetiresFirst && !probesInTime)
    findings.push({
      seen: `${idle.name} ${idleMs === 0 ? '0: the pool never closes an idle connection' : `${seconds(idleMs!)}: the pool keeps an idle connection that long`}, past ${path}: the path forgets it without a packet to either side, and the next query on it gets a reset (pg: "Connection terminated unexpectedly")`,
      fix: `Set ${idle.name} ${safe} (pg's default is 10000), or keep TCP keep-alive on with a first probe at ${probe} ms (${delayName(group)}) so the flow never sits idle that long.`,
    })
  if (keepAlive?.value === false && !poolRetiresFirst)
    findings.push({
      seen: `${keepAlive.name} off: no keep-alive probe refreshes an idle connection's flow, so one idle past ${path} is forgotten by the path and its next use gets a reset`,
      fix: `Turn it on (${keepAlive.name === '--keep-alive' ? '--keep-alive on' : `${keepAlive.name}: true`}, first probe at ${probe} ms: ${delayName(group)}), or close idle connections first: a pool idle timeout ${safe}.`,
    })
  if (group.label === 'redis' && delayMs === 0)
    findings.push({
      seen: `${delay!.name} 0: TCP keep-alive probes off, and a Redis connection stays open while idle (a subscriber, a quiet client): past ${path} the path forgets it and the next command gets a reset`,
      fix: `Set ${delay!.name} to ${probe} (milliseconds before the first probe; ioredis 6's default is 30000).`,
    })
  else if (delay !== undefined && !poolRetiresFirst && (delayMs! >= near || delayMs === 0))
    findings.push({
      seen: `${delay.name} ${delayMs === 0 ? "0: the first keep-alive probe comes after the OS's default idle time (7200 s on Linux)" : `${seconds(delayMs!)}: the first keep-alive probe comes`} after ${path}: too late to keep the flow`,
      fix: `Set ${delay.name} to ${probe}.`,
    })
  if (http !== undefined && (http.value as number) >= near)
    findings.push({
      seen: `${http.name} ${seconds(http.value as number)}: an idle socket kept that long for the next request outlives ${path}; the request that reuses it gets a reset`,
      fix: `Set ${http.name} ${safe}; the adapters' default, 4000, is safe.`,
    })
  return findings
}

/**
 * `idle timeout`: whether a setting the user passes (flags, or `--adapter-options`) would let a
 * connection sit idle across the path's idle timeout: a pool idle timeout at or near it (or never),
 * keep-alive off, a first probe too late, an HTTP keep-alive idle time past it. One warning per
 * setting, with the value to use; one pass when all are inside. No line when none was passed.
 */
export function checkIdleTimeouts(
  log: CheckLog,
  groups: IdleSettingGroup[],
  pathMs = PATH_IDLE_TIMEOUT_MS,
): void {
  if (groups.length === 0) return
  const started = performance.now()
  const base = { id: 'path.idleTimeout', title: 'idle timeout' }
  const findings = groups.flatMap((group) => groupFindings(group, pathMs))
  for (const finding of findings) log.add({ ...base, status: 'warn', ...finding }, started)
  if (findings.length > 0) return
  const settings = groups.flatMap((group) => group.settings)
  log.add(
    {
      ...base,
      status: 'pass',
      seen:
        settings.length === 0
          ? 'no setting given acts on idle connections: the adapters keep their defaults, which stay inside the path'
          : `inside the path's ${seconds(pathMs)} idle timeout: ${settings.map((s) => `${s.name} ${typeof s.value === 'boolean' ? (s.value ? 'on' : 'off') : s.value}`).join(', ')}`,
    },
    started,
  )
}
