import { createResolver, PrivateLinkError } from '@privatelink/dns'
import { privateApiGateway, sigv4 } from '@privatelink/http'
import { createTestCa, type Lab, startLab } from '@privatelink/lab'
import { interceptors, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpsTarget, type Target } from './https-target.js'

const API_ID = 'a1b2c3d4e5'
let lab: Lab
let target: Target
let ca: string
let aliasHost: string

beforeAll(async () => {
  const testCa = await createTestCa()
  ca = testCa.certificatePem
  // One lab to learn the names, the target with a certificate for them, then the real lab.
  lab = await startLab({ region: 'us-east-1', services: [] })
  const names = [
    `*.execute-api.us-east-1.vpce.amazonaws.com`,
    `*.execute-api.us-east-1.amazonaws.com`,
  ]
  await lab.close()
  target = await startHttpsTarget(testCa, names)
  lab = await startLab({
    region: 'us-east-1',
    services: [
      { name: 'execute-api', port: 443, target: { host: '127.0.0.1', port: target.port } },
    ],
  })
  aliasHost = `${API_ID}-${lab.endpoint.id}.execute-api.us-east-1.amazonaws.com`
})
afterAll(async () => {
  await lab.close()
  await target.close()
})

// The lab's regional name is under vpce-svc-..., a real execute-api endpoint's is under execute-api.
const executeApiEndpoint = () => ({
  ...lab.endpoint,
  dnsName: lab.endpoint.dnsName.replace(/\.vpce-svc-[0-9a-f]+\./, '.execute-api.'),
})

describe('privateApiGateway', () => {
  it('header mode: calls the vpce name with x-apigw-api-id, Host and SNI unchanged', async () => {
    const api = privateApiGateway({
      apiId: API_ID,
      stage: 'prod',
      region: 'us-east-1',
      endpoint: executeApiEndpoint(),
      dispatcher: { ca },
    })
    expect(api.baseUrl).toBe(`https://${executeApiEndpoint().dnsName}/prod`)
    const response = await request(`${api.baseUrl}/orders`, {
      dispatcher: api.dispatcher,
      headers: api.headers,
    })
    expect(await response.body.json()).toEqual({
      host: executeApiEndpoint().dnsName,
      apiId: API_ID,
      path: '/prod/orders',
      body: '',
    })
    await api.dispatcher.close()
  })

  it('alias mode: {apiId}-{vpceId}.execute-api host, no extra header', async () => {
    const api = privateApiGateway({
      apiId: API_ID,
      stage: 'prod',
      region: 'us-east-1',
      endpoint: executeApiEndpoint(),
      mode: 'alias',
      dispatcher: { ca },
    })
    expect(api.baseUrl).toBe(`https://${aliasHost}/prod`)
    expect(api.headers).toEqual({})
    const response = await request(`${api.baseUrl}/orders`, { dispatcher: api.dispatcher })
    expect(await response.body.json()).toMatchObject({ host: aliasHost, apiId: null })
    await api.dispatcher.close()
  })

  it.each([
    ['apiId', { apiId: 'UPPER' }],
    ['stage', { stage: 'a/b' }],
    ['mode', { mode: 'magic' }],
    ['endpoint', { endpoint: undefined }],
    ['endpoint', { endpoint: -2.15e134 }],
    ['endpoint', { endpoint: 'vpce-name' }],
    ['vpceDnsName', { vpceDnsName: 42 }],
  ])('rejects a bad %s', (option, bad) => {
    expect(() =>
      privateApiGateway({
        apiId: API_ID,
        stage: 'prod',
        region: 'us-east-1',
        endpoint: executeApiEndpoint(),
        ...bad,
      } as never),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option }),
      }),
    )
  })
})

describe('privateApiGateway with only vpceDnsName: every connect through the guard', () => {
  // No zones known: the vpce name resolves through a private-only resolver (here the lab's DNS)
  // and every address dialled, literals and redirects included, must be inside allowedRanges.
  const vpceName = () => executeApiEndpoint().dnsName
  // The lab serves 443 elsewhere when it cannot bind it (not root, or taken): one port per service.
  const dialPort = () => lab.endpoint.zones[0]!.portMap?.['443'] ?? 443
  const gateway = (dispatcher: Record<string, unknown> = {}) => {
    lab.dns.set(vpceName(), { a: lab.endpoint.zones.flatMap((z) => z.addresses) })
    return privateApiGateway({
      apiId: API_ID,
      stage: 'prod',
      region: 'us-east-1',
      vpceDnsName: vpceName(),
      allowedRanges: lab.allowedRanges,
      dispatcher: {
        resolver: createResolver({ servers: [lab.dns.address], allowedRanges: lab.allowedRanges }),
        ...dispatcher,
      },
    })
  }
  const url = (path: string) => `https://${vpceName()}:${dialPort()}/prod${path}`

  it('`ca` reaches TLS: the lab-CA certificate verifies with it and fails without it', async () => {
    const api = gateway({ ca })
    try {
      const response = await request(url('/orders'), {
        dispatcher: api.dispatcher,
        headers: api.headers,
      })
      expect(response.statusCode).toBe(200)
      expect(await response.body.json()).toMatchObject({ apiId: API_ID, path: '/prod/orders' })
    } finally {
      await api.dispatcher.close()
    }
    const withoutCa = gateway()
    try {
      const error = await request(url('/orders'), {
        dispatcher: withoutCa.dispatcher,
        headers: withoutCa.headers,
      }).catch((e: unknown) => e)
      expect(error).toMatchObject({
        code: expect.stringMatching(/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/),
      })
    } finally {
      await withoutCa.dispatcher.close()
    }
  })

  it('a redirect to an IP literal is refused with the typed error; nothing is dialled there', async () => {
    const api = gateway({ ca })
    const leak = `https://127.0.0.1:${target.port}/prod/leak`
    const redirecting = api.dispatcher.compose(interceptors.redirect({ maxRedirections: 2 }))
    try {
      const error = await request(url('/orders'), {
        dispatcher: redirecting,
        headers: { ...api.headers, 'x-respond-status': '302', 'x-respond-location': leak },
      }).catch((e: unknown) => e)
      expect(PrivateLinkError.isInstance(error)).toBe(true)
      expect(error).toMatchObject({ code: 'ERR_DNS_NOT_PRIVATE' })
      expect((error as Error).message).toContain('127.0.0.1')
      expect(target.counts.get('GET /prod/leak')).toBeUndefined()
      // The literal in a URL, no redirect, is refused the same way.
      const direct = await request(leak, { dispatcher: api.dispatcher }).catch((e: unknown) => e)
      expect(direct).toMatchObject({ code: 'ERR_DNS_NOT_PRIVATE' })
      expect(target.counts.get('GET /prod/leak')).toBeUndefined()
    } finally {
      await api.dispatcher.close()
    }
  })

  it('a public answer for the vpce name is refused before any connect', async () => {
    const api = gateway({ ca })
    lab.dns.set(vpceName(), { a: ['52.1.2.3'] })
    try {
      const error = await request(url('/orders'), {
        dispatcher: api.dispatcher,
        headers: api.headers,
      }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_DNS_NOT_PRIVATE' })
    } finally {
      await api.dispatcher.close()
    }
  })

  it.each([
    ['dispatcher.connections', { dispatcher: { connections: -1 } }],
    ['dispatcher.ca', { dispatcher: { ca: 42 } }],
    ['dispatcher.servername', { dispatcher: { servername: '' } }],
    ['allowedRanges', { allowedRanges: ['10.0.0.0/'] }],
  ])('rejects a bad %s at construction', (option, bad) => {
    expect(() =>
      privateApiGateway({
        apiId: API_ID,
        stage: 'prod',
        region: 'us-east-1',
        vpceDnsName: vpceName(),
        ...bad,
      } as never),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        details: expect.objectContaining({ option: expect.stringContaining(option) }),
      }),
    )
  })
})

describe('sigv4', () => {
  it('a signed request is verified by the lab verifier; a tampered one is refused', async () => {
    target.verify = async (req) => (await lab.aws.verify(req)).ok
    const api = privateApiGateway({
      apiId: API_ID,
      stage: 'prod',
      region: 'us-east-1',
      endpoint: executeApiEndpoint(),
      dispatcher: { ca },
    })
    const signed = api.dispatcher.compose(
      sigv4({ region: 'us-east-1', credentials: lab.aws.credentials }),
    )
    try {
      const ok = await request(`${api.baseUrl}/orders?limit=5&b=2`, {
        dispatcher: signed,
        method: 'POST',
        headers: api.headers,
        body: '{"sku":"x"}',
      })
      expect(ok.statusCode).toBe(200)
      await ok.body.dump()

      // Tamper after signing: an interceptor that changes the path the signature covered.
      const tampered = api.dispatcher.compose(
        (dispatch) => (options, handler) =>
          dispatch(
            { ...options, path: String(options.path).replace('orders', 'refunds') },
            handler,
          ),
        sigv4({ region: 'us-east-1', credentials: lab.aws.credentials }),
      )
      const refused = await request(`${api.baseUrl}/orders`, {
        dispatcher: tampered,
        headers: api.headers,
      })
      expect(refused.statusCode).toBe(403)
      await refused.body.dump()

      const wrongSecret = api.dispatcher.compose(
        sigv4({
          region: 'us-east-1',
          credentials: { ...lab.aws.credentials, secretAccessKey: 'wrong' },
        }),
      )
      const denied = await request(`${api.baseUrl}/orders`, {
        dispatcher: wrongSecret,
        headers: api.headers,
      })
      expect(denied.statusCode).toBe(403)
      await denied.body.dump()
    } finally {
      target.verify = undefined
      await api.dispatcher.close()
    }
  })

  it('takes a credential provider, and reports a failing one as ERR_SIGV4_FAILED without secrets', async () => {
    const api = privateApiGateway({
      apiId: API_ID,
      stage: 'prod',
      region: 'us-east-1',
      endpoint: executeApiEndpoint(),
      dispatcher: { ca },
    })
    const session = lab.aws.issueSession(900)
    const viaProvider = api.dispatcher.compose(
      sigv4({ region: 'us-east-1', credentials: async () => session }),
    )
    target.verify = async (req) => (await lab.aws.verify(req)).ok
    try {
      const ok = await request(`${api.baseUrl}/orders`, {
        dispatcher: viaProvider,
        headers: api.headers,
      })
      expect(ok.statusCode).toBe(200)
      await ok.body.dump()
      const failing = api.dispatcher.compose(
        sigv4({
          region: 'us-east-1',
          credentials: async () => {
            throw new Error('SSO session expired')
          },
        }),
      )
      const error = await request(`${api.baseUrl}/orders`, { dispatcher: failing }).catch((e) => e)
      expect(error).toMatchObject({ code: 'ERR_SIGV4_FAILED' })
      expect(JSON.stringify(error)).not.toContain(session.secretAccessKey)
    } finally {
      target.verify = undefined
      await api.dispatcher.close()
    }
  })
})
