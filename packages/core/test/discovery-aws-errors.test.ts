import { inspect } from 'node:util'
import { detectLocality, discoverEndpoint, type PrivateLinkError } from '@privatelink/core'
import { HttpResponse } from 'msw'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import {
  EC2_ENDPOINT,
  ec2Error,
  METADATA_ENDPOINT,
  metadataHandlers,
  SCAN_CREDENTIALS,
  startEc2Mock,
} from './aws-error-shapes.js'

// Issue 18, items 8 and 10, and the acceptance's msw shapes: what EC2 and the metadata services
// answer in production but the lab does not.
const mock = startEc2Mock()
afterEach(() => {
  mock.server.resetHandlers()
  mock.actions.splice(0)
  mock.authorizations.splice(0)
})
afterAll(() => mock.server.close())

const discover = (extra: Record<string, unknown> = {}) =>
  discoverEndpoint({
    endpointId: 'vpce-0123456789abcdef0',
    ec2ClientConfig: {
      endpoint: EC2_ENDPOINT,
      region: 'us-west-2',
      credentials: SCAN_CREDENTIALS,
      ...extra,
    },
  }).then(
    () => expect.unreachable(),
    (error: PrivateLinkError) => error,
  )

describe('EC2 error shapes', () => {
  it('RequestLimitExceeded: retried with backoff by the SDK, then ERR_DISCOVERY_THROTTLED', async () => {
    const times: number[] = []
    mock.respond(() => {
      times.push(Date.now())
      return ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503)
    })
    // The SDK's backoff runs on timers: fake them and step through, so the test does not wait.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    let error: PrivateLinkError | undefined
    try {
      const pending = discover({ maxAttempts: 3 }).then((e) => {
        error = e
      })
      while (error === undefined) await vi.advanceTimersByTimeAsync(250)
      await pending
    } finally {
      vi.useRealTimers()
    }
    if (error === undefined) return expect.unreachable()
    expect(mock.actions).toEqual(Array(3).fill('DescribeVpcEndpoints'))
    expect(error.code).toBe('ERR_DISCOVERY_THROTTLED')
    expect(error.message).toBe(
      'DescribeVpcEndpoints failed: RequestLimitExceeded: Request limit exceeded.',
    )
    expect(error.details).toMatchObject({ attempts: 3, httpStatus: 503 })
    expect(error.hint).toMatch(/createEndpointDiscovery/)
    // Backoff: each retry waited on a timer (with Date faked, back to back would read 0 ms).
    expect(times[1]! - times[0]!).toBeGreaterThan(0)
    expect(times[2]! - times[1]!).toBeGreaterThan(0)
  })

  it('throttled once, then answered: discovery succeeds', async () => {
    mock.respond(
      () => ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
      () =>
        new HttpResponse(
          '<DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcEndpointSet/></DescribeVpcEndpointsResponse>',
          { headers: { 'content-type': 'text/xml' } },
        ),
    )
    const error = await discover({ maxAttempts: 3 })
    // The empty set after the retry is an answer: not found, not a throttling error.
    expect(error.code).toBe('ERR_ENDPOINT_NOT_FOUND')
    expect(mock.actions).toHaveLength(2)
  })

  it('UnauthorizedOperation with an encoded message: the hint says how to decode it', async () => {
    const encoded = 'AbCdEf0123456789-_EncodedAuthorizationMessage'
    mock.respond(() =>
      ec2Error(
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. Encoded authorization failure message: ${encoded}`,
        403,
      ),
    )
    const error = await discover({ maxAttempts: 1 })
    expect(error.code).toBe('ERR_DISCOVERY_FAILED')
    expect(error.message).toBe(
      'DescribeVpcEndpoints failed: UnauthorizedOperation: You are not authorized to perform this operation.',
    )
    expect(error.details).toMatchObject({ encodedMessage: encoded, httpStatus: 403 })
    expect(error.hint).toContain('aws sts decode-authorization-message --encoded-message')
    expect(error.hint).toContain('ec2:DescribeVpcEndpoints')
  })

  it('a 500 from EC2: the status and attempts in the error, a transient hint', async () => {
    mock.respond(() => ec2Error('InternalError', 'An internal error has occurred', 500))
    const error = await discover({ maxAttempts: 1 })
    expect(error.code).toBe('ERR_DISCOVERY_FAILED')
    expect(error.message).toContain('InternalError: An internal error has occurred')
    expect(error.details).toMatchObject({ httpStatus: 500, attempts: 1 })
    expect(error.hint).toMatch(/transient/)
  })

  it('a truncated XML body is a typed error, not a parser crash', async () => {
    mock.respond(
      () =>
        new HttpResponse(
          '<DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcEndpointSet><item><vpcEndpointId>vpce-01',
          { headers: { 'content-type': 'text/xml' } },
        ),
    )
    const error = await discover({ maxAttempts: 1 })
    expect(error.code).toBe('ERR_DISCOVERY_FAILED')
    expect(error.message).toMatch(/^DescribeVpcEndpoints failed: \w+: ./)
    expect(error.hint).toMatch(/not a complete EC2 response|EC2 client configuration/)
  })

  it('the cause holds no request object (item 8)', async () => {
    mock.respond(() =>
      ec2Error('AuthFailure', 'AWS was not able to validate the credentials.', 401),
    )
    const error = await discover({ maxAttempts: 1 })
    const cause = error.cause as Record<string, unknown>
    expect(cause).toBeInstanceOf(Error)
    expect(cause['name']).toBe('AuthFailure')
    expect(Object.getOwnPropertyNames(cause)).not.toContain('$response')
    const signature = /Signature=([0-9a-f]+)/.exec(mock.authorizations[0]!)![1]!
    const shown = inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY })
    expect(shown).not.toContain(signature)
    expect(shown).not.toContain(SCAN_CREDENTIALS.sessionToken)
    expect(shown).not.toContain(SCAN_CREDENTIALS.accessKeyId)
  })
})

describe('paging (issue 24, item 14)', () => {
  const page = (token: string | undefined) => () =>
    new HttpResponse(
      `<DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcEndpointSet/>${token === undefined ? '' : `<nextToken>${token}</nextToken>`}</DescribeVpcEndpointsResponse>`,
      { headers: { 'content-type': 'text/xml' } },
    )
  // A runaway loop ends after a few pages with an error the test can tell apart.
  const stopper = () => ec2Error('Runaway', 'paging did not stop', 400)
  const byService = () =>
    discoverEndpoint({
      serviceName: 'com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0',
      ec2ClientConfig: {
        endpoint: EC2_ENDPOINT,
        region: 'us-west-2',
        credentials: SCAN_CREDENTIALS,
        maxAttempts: 1,
      },
    }).then(
      () => expect.unreachable(),
      (error: PrivateLinkError) => error,
    )

  it('an empty NextToken ends the listing', async () => {
    mock.respond(page(''), page(''), page(''), stopper)
    const error = await byService()
    expect(error.code).toBe('ERR_ENDPOINT_NOT_FOUND')
    expect(mock.actions).toEqual(['DescribeVpcEndpoints'])
  })

  it('a NextToken seen before ends the listing instead of looping', async () => {
    mock.respond(page('t1'), page('t2'), page('t1'), page('t2'), page('t1'), stopper)
    const error = await byService()
    expect(error.code).toBe('ERR_ENDPOINT_NOT_FOUND')
    expect(mock.actions).toEqual(Array(3).fill('DescribeVpcEndpoints'))
  })
})

describe('messages say what happened (item 10)', () => {
  it('a missing region is named in the message and the hint', async () => {
    const error = await discover({ region: undefined, maxAttempts: 1 })
    expect(error.message).toMatch(/Region is missing/)
    expect(error.hint).toMatch(/AWS_REGION/)
  })

  it('an unreachable EC2 API names the socket error', async () => {
    mock.server.close()
    try {
      const error = await discover({ maxAttempts: 1 })
      expect(error.message).toMatch(/DescribeVpcEndpoints failed: ECONNREFUSED/)
      expect(error.hint).toMatch(/could not be reached/)
    } finally {
      mock.server.listen({ onUnhandledRequest: 'bypass' })
    }
  })

  it('a refused AssumeRole (wrong ExternalId) points at sts:AssumeRole, not ec2', async () => {
    const stsRefusal = Object.assign(
      new Error(
        'User: arn:aws:iam::111111111111:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/reader',
      ),
      { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
    )
    const error = await discoverEndpoint({
      endpointId: 'vpce-0123456789abcdef0',
      ec2ClientConfig: {
        endpoint: EC2_ENDPOINT,
        region: 'us-west-2',
        credentials: () => Promise.reject(stsRefusal),
        maxAttempts: 1,
      },
    }).then(
      () => expect.unreachable(),
      (e: PrivateLinkError) => e,
    )
    expect(error.code).toBe('ERR_DISCOVERY_FAILED')
    expect(error.message).toMatch(/\(sts:AssumeRole\): AccessDenied: User: .* sts:AssumeRole/)
    expect(error.hint).toMatch(/trust policy/)
    expect(error.hint).toMatch(/ExternalId/)
    expect(error.hint).not.toMatch(/ec2:DescribeVpcEndpoints/)
  })
})

describe('metadata endpoints answering 404 / 500', () => {
  it.each([404, 500])('IMDS %i: unknown, with the status as the reason', async (status) => {
    mock.server.use(...metadataHandlers.status(status))
    const locality = await detectLocality({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: METADATA_ENDPOINT },
    })
    expect(locality).toEqual({
      source: 'unknown',
      reasons: [{ source: 'imds', error: `HTTP ${status}` }],
    })
  })

  it('token granted but placement 404: each read is a reason', async () => {
    mock.server.use(metadataHandlers.status(200)[0]!, metadataHandlers.status(404)[1]!)
    const locality = await detectLocality({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: METADATA_ENDPOINT },
    })
    expect(locality.source).toBe('unknown')
    expect(locality.reasons).toEqual(Array(3).fill({ source: 'imds', error: 'HTTP 404' }))
    expect(inspect(locality, { depth: Number.POSITIVE_INFINITY })).not.toContain('token-abc')
  })

  it.each([404, 500])('ECS task metadata %i', async (status) => {
    mock.server.use(...metadataHandlers.ecs(status))
    const locality = await detectLocality({
      env: {
        ECS_CONTAINER_METADATA_URI_V4: `${METADATA_ENDPOINT}/ecs`,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    })
    expect(locality.reasons).toEqual([
      { source: 'ecs', error: `HTTP ${status}` },
      { source: 'imds', error: 'disabled by AWS_EC2_METADATA_DISABLED' },
    ])
  })
})
