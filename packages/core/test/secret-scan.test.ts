import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import { inspect } from 'node:util'
import {
  createConnector,
  detectLocality,
  discoverEndpoint,
  endpointFromConfig,
  PrivateLinkError,
} from '@privatelink/core'
import { createResolver } from '@privatelink/dns'
import { startDnsServer } from '@privatelink/lab'
import { HttpResponse, http } from 'msw'
import { afterAll, describe, expect, it } from 'vitest'
import {
  EC2_ENDPOINT,
  ec2Error,
  METADATA_ENDPOINT,
  SCAN_CREDENTIALS,
  startEc2Mock,
} from './aws-error-shapes.js'

// Issue 18, acceptance: util.inspect with showHidden and depth Infinity of every error the
// discovery, locality and connector paths raise holds no access key, secret, token or signature.
const mock = startEc2Mock()
afterAll(() => mock.server.close())

const LAMBDA_TOKEN = 'lambdaMetadataTokenScan0123456789'

function assertClean(value: unknown) {
  const shown = inspect(value, { showHidden: true, depth: Number.POSITIVE_INFINITY })
  const signatures = mock.authorizations.flatMap((a) => /Signature=([0-9a-f]+)/.exec(a)?.[1] ?? [])
  for (const secret of [
    SCAN_CREDENTIALS.accessKeyId,
    SCAN_CREDENTIALS.secretAccessKey,
    SCAN_CREDENTIALS.sessionToken,
    LAMBDA_TOKEN,
    ...signatures,
  ]) {
    expect(shown).not.toContain(secret)
  }
  expect(shown).not.toMatch(/Signature=[0-9a-f]{64}/)
  expect(shown).not.toMatch(/X-Amz-Security-Token/i)
  return shown
}

const discoveryError = (config: Record<string, unknown>) =>
  discoverEndpoint({
    endpointId: 'vpce-0123456789abcdef0',
    ec2ClientConfig: {
      endpoint: EC2_ENDPOINT,
      region: 'us-west-2',
      credentials: SCAN_CREDENTIALS,
      maxAttempts: 1,
      ...config,
    },
  }).then(
    () => expect.unreachable(),
    (error: unknown) => error,
  )

describe('secret scan', () => {
  it.each([
    ['RequestLimitExceeded', 503],
    ['UnauthorizedOperation', 403],
    ['AuthFailure', 401],
    ['SignatureDoesNotMatch', 403],
    ['ExpiredToken', 400],
    ['InvalidClientTokenId', 403],
    ['InternalError', 500],
  ])('discovery: %s', async (code, status) => {
    mock.respond(() =>
      ec2Error(
        code,
        `${code}: Encoded authorization failure message: ${'x'.repeat(40)} for request`,
        status,
      ),
    )
    const error = await discoveryError({})
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    expect(mock.authorizations.at(-1)).toContain(SCAN_CREDENTIALS.accessKeyId) // the request was signed
    assertClean(error)
  })

  it('discovery: truncated XML, a missing region, a refused connection, a failing provider', async () => {
    mock.respond(() => new HttpResponse('<DescribeVpcEndpointsResponse><vpcEndpointSet><item>'))
    const errors = [
      await discoveryError({}),
      await discoveryError({ region: undefined }),
      await discoveryError({ endpoint: 'http://127.0.0.1:1' }),
      await discoveryError({
        credentials: () =>
          Promise.reject(
            Object.assign(new Error('Could not load credentials from any providers'), {
              name: 'CredentialsProviderError',
            }),
          ),
      }),
    ]
    for (const error of errors) {
      expect(PrivateLinkError.isInstance(error)).toBe(true)
      assertClean(error)
    }
  })

  it('locality: the reasons never carry the metadata token', async () => {
    mock.server.use(
      http.get(
        `${METADATA_ENDPOINT}/2026-01-15/metadata/execution-environment`,
        ({ request }) =>
          new HttpResponse(`bad token ${request.headers.get('authorization')}`, { status: 401 }),
      ),
    )
    const locality = await detectLocality({
      env: {
        AWS_LAMBDA_METADATA_API: METADATA_ENDPOINT.replace('http://', ''),
        AWS_LAMBDA_METADATA_TOKEN: LAMBDA_TOKEN,
        AWS_LAMBDA_FUNCTION_NAME: 'scan',
      },
    })
    expect(locality.reasons).toEqual([
      { source: 'lambda', error: 'HTTP 401' },
      { source: 'imds', error: 'not asked on Lambda' },
    ])
    assertClean(locality)
  })

  it('connector: unreachable zones, and zones that all fail on DNS (item 10)', async () => {
    // A port that refuses: bound, then closed, on loopback.
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    server.close()
    const dnsName =
      'vpce-0123456789abcdef0-abcd1234.vpce-svc-0fedcba9876543210.us-west-2.vpce.amazonaws.com'
    const refusing = createConnector({
      endpoint: endpointFromConfig({
        dnsName,
        zones: [
          { azName: 'us-west-2a', addresses: ['127.0.0.1'] },
          { azName: 'us-west-2b', addresses: ['127.0.0.1'] },
        ],
      }),
      port,
      locality: null,
    })
    const unreachable = await refusing.connect({ tls: false }).then(
      () => expect.unreachable(),
      (e: PrivateLinkError) => e,
    )
    refusing.close()
    expect(unreachable).toMatchObject({ code: 'ERR_ENDPOINT_UNREACHABLE' })
    assertClean(unreachable)

    // Zones known only by name, and the names do not resolve: the DNS error, not a security-group hint.
    const dns = await startDnsServer()
    try {
      const unresolvable = createConnector({
        endpoint: endpointFromConfig({
          dnsName,
          zones: [{ azName: 'us-west-2a' }, { azName: 'us-west-2b' }],
        }),
        port,
        locality: null,
        resolver: createResolver({ servers: [dns.address] }),
      })
      const error = await unresolvable.connect({ tls: false }).then(
        () => expect.unreachable(),
        (e: PrivateLinkError) => e,
      )
      unresolvable.close()
      expect(error).toMatchObject({ code: 'ERR_DNS_NOT_FOUND' })
      expect(error.message).toMatch(/every zone failed with ERR_DNS_NOT_FOUND/)
      expect(error.hint).toMatch(/private DNS/)
      expect(error.hint).not.toMatch(/security group/)
      expect((error.details['attempts'] as unknown[]).length).toBe(2)
      assertClean(error)
    } finally {
      await dns.close()
    }
  })
})
