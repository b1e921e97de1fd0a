import { Sha256 } from '@aws-crypto/sha256-js'
import { invalidOption, PrivateLinkError } from '@privatelink/core'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Dispatcher } from 'undici'
import { asLegacy } from './legacy-handler.js'

export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration?: Date
}

export interface SigV4Options {
  /** @default 'execute-api' */
  service?: string
  region: string
  /** Credentials, or a provider (any AwsCredentialIdentityProvider, e.g. fromNodeProviderChain()). */
  credentials: AwsCredentials | (() => Promise<AwsCredentials>)
}

type Headers = Record<string, string>

function headerObject(headers: Dispatcher.DispatchOptions['headers']): Headers {
  const result: Headers = {}
  if (headers == null) return result
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2)
      result[String(headers[index]).toLowerCase()] = String(headers[index + 1])
    return result
  }
  const entries =
    typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function'
      ? [...(headers as Iterable<[string, string]>)]
      : Object.entries(headers)
  for (const [name, value] of entries) {
    if (value !== undefined)
      result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return result
}

/**
 * Signs each request with SigV4 (IAM-authorised API Gateway APIs, AWS services). Signs the final
 * Host and path; bodies that are strings or bytes are hashed, streams are sent UNSIGNED-PAYLOAD.
 * Never logs or publishes the signature or the credentials.
 */
export function sigv4(options: SigV4Options): Dispatcher.DispatcherComposeInterceptor {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options)
  if (typeof options.region !== 'string' || options.region === '')
    throw invalidOption('region', 'an AWS region such as us-east-1', options.region)
  const { credentials } = options
  if (
    typeof credentials !== 'function' &&
    (typeof credentials !== 'object' ||
      credentials === null ||
      typeof credentials.accessKeyId !== 'string')
  ) {
    throw invalidOption('credentials', 'credentials or a credential provider', typeof credentials)
  }
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials: typeof credentials === 'function' ? credentials : async () => credentials,
    sha256: Sha256,
  })
  return (dispatch) => (dispatchOptions, handler) => {
    const origin = new URL(String(dispatchOptions.origin))
    const headers = headerObject(dispatchOptions.headers)
    headers['host'] ??= origin.host
    const [path = '/', search = ''] = String(dispatchOptions.path).split('?', 2)
    const query: Record<string, string | string[]> = {}
    for (const [key, value] of new URLSearchParams(search)) {
      const existing = query[key]
      query[key] =
        existing === undefined
          ? value
          : [...(Array.isArray(existing) ? existing : [existing]), value]
    }
    const body = dispatchOptions.body
    const hashable =
      body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
    if (!hashable) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
    signer
      .sign({
        method: dispatchOptions.method,
        protocol: origin.protocol,
        hostname: origin.hostname,
        path,
        query,
        headers,
        body: hashable ? (body ?? undefined) : undefined,
      })
      .then(
        (signed) => dispatch({ ...dispatchOptions, headers: signed.headers }, handler),
        (cause: unknown) =>
          asLegacy(handler).onError?.(
            new PrivateLinkError('ERR_SIGV4_FAILED', 'Could not sign the request with SigV4', {
              hint: 'Check that the credential provider returns credentials (an expired SSO session or a missing role are the usual causes).',
              details: { service: options.service ?? 'execute-api', region: options.region },
              cause,
            }),
          ),
      )
    return true
  }
}
