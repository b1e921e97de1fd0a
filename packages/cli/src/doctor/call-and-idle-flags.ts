import { readFile } from 'node:fs/promises'
import { redactUrlCredentials } from '@privatelink/dns'
import { type Command, Option } from 'commander'
import { parsePositiveInteger } from '../arguments.js'
import { usageError } from '../context.js'
import {
  parseAction,
  parseMilliseconds,
  parsePrincipalArn,
  parseResourceArn,
} from './doctor-arguments.js'
import { type IdleSettingGroup, parseAdapterOptions } from './idle-settings.js'
import { PATH_IDLE_TIMEOUT_MS } from './idle-timeout-checks.js'
import type { PolicyCallRequest } from './policy-call-check.js'

/** doctor's flags for the policy call (`--action`...) and the idle-timeout settings. */
export interface CallAndIdleFlags {
  action?: string
  resource?: string
  principal?: string
  poolIdleTimeoutMs?: number
  keepAlive?: 'on' | 'off'
  keepAliveTimeoutMs?: number
  adapterOptions?: string
  pathIdleTimeoutMs: number
}

/** Declares the flags, after doctor's own, in the order `--help` lists them. */
export function addCallAndIdleOptions(command: Command): Command {
  return command
    .option(
      '--action <service:action>',
      'evaluate the endpoint policy for this call (e.g. s3:GetObject), with --resource; needs the optional @cloud-copilot/iam-simulate',
      parseAction,
    )
    .option('--resource <arn>', 'the ARN the --action call acts on (or *)', parseResourceArn)
    .option(
      '--principal <arn>',
      "who makes the --action call: an IAM user, role or assumed-role ARN (default: the endpoint account's root, any principal of it)",
      parsePrincipalArn,
    )
    .option(
      '--pool-idle-timeout-ms <ms>',
      "your pool's idle timeout (0: never), checked against the path's idle timeout",
      parseMilliseconds,
    )
    .addOption(
      new Option(
        '--keep-alive <state>',
        "your client's TCP keep-alive, checked against the path's idle timeout",
      ).choices(['on', 'off']),
    )
    .option(
      '--keep-alive-timeout-ms <ms>',
      "your HTTP client's keep-alive idle time (undici keepAliveTimeout), checked against the path's idle timeout",
      parseMilliseconds,
    )
    .option(
      '--adapter-options <file>',
      'a JSON file of the options you pass each adapter ({"pg": {...}, "mysql": {...}, "redis": {...}, "http": {...}, "aws-sdk": {...}}): those that act on idle connections are checked',
    )
    .addOption(
      new Option(
        '--path-idle-timeout-ms <ms>',
        "the path's idle timeout (an NLB TCP listener's may be 60-6000 s)",
      )
        .argParser(parsePositiveInteger(6_000_000))
        .default(PATH_IDLE_TIMEOUT_MS),
    )
}

/** The policy call the flags ask about; usage errors for a half-given one. */
export function policyCallFrom(flags: CallAndIdleFlags): PolicyCallRequest | undefined {
  if (flags.action === undefined) {
    const stray =
      flags.resource !== undefined ? '--resource' : flags.principal ? '--principal' : undefined
    if (stray !== undefined)
      throw usageError(
        `${stray} without --action`,
        'Pass --action with the call to evaluate (e.g. --action s3:GetObject --resource arn:aws:s3:::bucket/key).',
        stray,
      )
    return undefined
  }
  if (flags.resource === undefined)
    throw usageError(
      '--action without --resource',
      'Pass --resource with the ARN the call acts on (or * for an action that takes none).',
      '--resource',
    )
  return {
    action: flags.action,
    resource: flags.resource,
    ...(flags.principal !== undefined ? { principal: flags.principal } : {}),
  }
}

/** The idle-timeout settings from the flags and the `--adapter-options` file. */
export async function idleSettingsFrom(flags: CallAndIdleFlags): Promise<IdleSettingGroup[]> {
  const groups: IdleSettingGroup[] = []
  const own: IdleSettingGroup = { label: 'the flags', settings: [] }
  if (flags.poolIdleTimeoutMs !== undefined)
    own.settings.push({
      kind: 'poolIdle',
      name: '--pool-idle-timeout-ms',
      value: flags.poolIdleTimeoutMs,
    })
  if (flags.keepAlive !== undefined)
    own.settings.push({ kind: 'keepAlive', name: '--keep-alive', value: flags.keepAlive === 'on' })
  if (flags.keepAliveTimeoutMs !== undefined)
    own.settings.push({
      kind: 'httpKeepAlive',
      name: '--keep-alive-timeout-ms',
      value: flags.keepAliveTimeoutMs,
    })
  if (own.settings.length > 0) groups.push(own)
  if (flags.adapterOptions !== undefined) {
    const file = redactUrlCredentials(flags.adapterOptions)
    let text: string
    try {
      text = await readFile(flags.adapterOptions, 'utf8')
    } catch (error) {
      throw usageError(
        `--adapter-options ${file}: ${(error as { code?: string }).code ?? 'unreadable'}`,
        'Pass a readable JSON file of adapter options.',
        '--adapter-options',
      )
    }
    groups.push(...parseAdapterOptions(text, file))
  }
  return groups
}
