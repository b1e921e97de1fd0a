import { PrivateLinkError } from '@privatelink/core'
import type { PrivateLinkPgOptions, ValidatedOptions } from './options.js'
import { secretPassword } from './secret-password.js'
import { createIamTokenProvider, type IamTokenProvider } from './token-provider.js'

/** What authenticates a plan's connections: the password pg calls, and how to refresh it. */
export interface PlanAuth {
  /** The password (or token) pg sends. */
  password: () => Promise<string> | string
  /** After an authentication failure: refresh what authenticates; false when nothing can. */
  refresh(): Promise<boolean>
  /** The IAM token provider, when auth is IAM. */
  tokenProvider: IamTokenProvider | undefined
  /** The last token handed to pg, to diagnose an auth failure (never shown in an error). */
  lastToken(): string | undefined
}

/**
 * The password source for the plan's auth kind: an IAM token (signed for the proxy in `region`),
 * a Secrets Manager secret, or a fixed password.
 */
export function planAuth(
  options: ValidatedOptions,
  input: PrivateLinkPgOptions,
  region: string | undefined,
): PlanAuth {
  if (options.auth.kind === 'iam') return iamAuth(options, input, region)
  const none = { tokenProvider: undefined, lastToken: () => undefined }
  if (options.auth.kind === 'secret') {
    const secret = secretPassword(options.auth.secret, options.user, region, input.credentials)
    return {
      ...none,
      password: () => secret.get(),
      refresh: async () => {
        secret.invalidate()
        return true
      },
    }
  }
  const fixed = options.auth.password
  return { ...none, password: () => fixed, refresh: async () => false }
}

function iamAuth(
  options: ValidatedOptions,
  input: PrivateLinkPgOptions,
  region: string | undefined,
): PlanAuth {
  if (region === undefined) {
    throw new PrivateLinkError(
      'ERR_INVALID_OPTION',
      "Invalid option 'region': expected the proxy's region",
      {
        hint: "Pass region (e.g. 'us-west-2'): the endpoint given does not name one.",
        details: { option: 'region' },
      },
    )
  }
  const provider =
    input.tokenProvider ??
    createIamTokenProvider({
      hostname: options.proxyHost,
      port: options.port,
      username: options.user,
      region,
      ...(input.credentials === undefined ? {} : { credentials: input.credentials }),
      ...(input.refreshMarginMs === undefined ? {} : { refreshMarginMs: input.refreshMarginMs }),
      ...(input.clock === undefined ? {} : { clock: input.clock }),
    })
  // A shared provider signs for one proxyHost:port and user; any other would sign tokens the
  // proxy refuses.
  if (
    provider.hostname !== options.proxyHost ||
    provider.port !== options.port ||
    provider.username !== options.user
  ) {
    throw new PrivateLinkError(
      'ERR_INVALID_OPTION',
      `Invalid option 'tokenProvider': it signs for ${provider.username}@${provider.hostname}:${provider.port}, not ${options.user}@${options.proxyHost}:${options.port}`,
      {
        hint: "A shared token provider must match the pool's proxyHost, port and user.",
        details: { option: 'tokenProvider' },
      },
    )
  }
  // Kept in this closure only, never on an object a log could print.
  let lastToken: string | undefined
  return {
    tokenProvider: provider,
    password: async () => {
      lastToken = await provider.getToken()
      return lastToken
    },
    refresh: async () => {
      await provider.refresh()
      return true
    },
    lastToken: () => lastToken,
  }
}
