import { createAwsRequestHandler } from '@privatelink/aws-sdk'
import type { Endpoint } from '@privatelink/core'
import { afterEach, describe, expect, it } from 'vitest'

const endpoint = (service: string): Endpoint => ({
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  serviceName: `com.amazonaws.us-west-2.${service}`,
  dnsName: `vpce-0123456789abcdef0-abcdefgh.${service}.us-west-2.vpce.amazonaws.com`,
  zones: [{ azName: 'us-west-2a', azId: 'usw2-az1', addresses: ['10.0.1.5'] }],
})

const handlers: { close(): Promise<void> }[] = []
const make = (options: Parameters<typeof createAwsRequestHandler>[0]) => {
  const handler = createAwsRequestHandler({ locality: null, ...options })
  handlers.push(handler)
  return handler
}
afterEach(async () => {
  for (const handler of handlers.splice(0)) await handler.close()
})

const refusal = (options: unknown) => {
  try {
    if (options === null) createAwsRequestHandler(null as never)
    else make(options as never)
  } catch (error) {
    const typed = error as { code: string; details: { option: string } }
    return `${typed.code} ${typed.details.option}`
  }
  return 'accepted'
}

describe('createAwsRequestHandler options', () => {
  it('serves the service name, the vpce names and extra hostnames of each endpoint', () => {
    const handler = make({
      endpoint: endpoint('secretsmanager'),
      endpoints: { s3: endpoint('s3'), kms: 'private-dns' },
      hostnames: { s3: ['my-bucket.s3.us-west-2.amazonaws.com'] },
    })
    expect([...handler.hostnames].sort()).toEqual(
      [
        'secretsmanager.us-west-2.amazonaws.com',
        'vpce-0123456789abcdef0-abcdefgh.secretsmanager.us-west-2.vpce.amazonaws.com',
        's3.us-west-2.amazonaws.com',
        's3-control.us-west-2.amazonaws.com',
        'vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'bucket.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'accesspoint.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'control.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
        'my-bucket.s3.us-west-2.amazonaws.com',
        'kms.us-west-2.amazonaws.com',
      ].sort(),
    )
    expect(handler.dispatcherFor('KMS.us-west-2.amazonaws.com')).toBeDefined()
    expect(handler.dispatcherFor('sts.us-west-2.amazonaws.com')).toBeUndefined()
  })

  it('refuses bad options at construction, naming the option', () => {
    expect(refusal(null)).toBe('ERR_INVALID_OPTION options')
    expect(refusal({})).toBe('ERR_INVALID_OPTION endpoints')
    expect(refusal({ endpoints: [] })).toBe('ERR_INVALID_OPTION endpoints')
    expect(refusal({ endpoint: 'vpce-0123' })).toBe('ERR_INVALID_OPTION endpoint')
    expect(refusal({ endpoints: { 'Secrets Manager': endpoint('secretsmanager') } })).toBe(
      'ERR_INVALID_OPTION endpoints.Secrets Manager',
    )
    expect(refusal({ endpoints: { sts: 'public' } })).toBe('ERR_INVALID_OPTION endpoints.sts')
    expect(refusal({ endpoints: { sts: endpoint('sts') }, region: 'west' })).toBe(
      'ERR_INVALID_OPTION region',
    )
    expect(refusal({ endpoints: { sts: endpoint('sts') }, hostnames: { kms: ['k'] } })).toBe(
      'ERR_INVALID_OPTION hostnames.kms',
    )
    expect(refusal({ endpoints: { sts: endpoint('sts') }, hostnames: { sts: 'k' } })).toBe(
      'ERR_INVALID_OPTION hostnames.sts',
    )
    expect(refusal({ endpoints: { sts: endpoint('sts') }, passthrough: true })).toBe(
      'ERR_INVALID_OPTION passthrough',
    )
    // The dispatcher's own options are checked by the dispatcher.
    expect(refusal({ endpoints: { sts: endpoint('sts') }, keepAliveTimeoutMs: -1 })).toBe(
      'ERR_INVALID_OPTION keepAliveTimeoutMs',
    )
    // Two routes for one name would make the choice silent.
    expect(
      refusal({
        endpoints: {
          sts: { ...endpoint('sts'), privateDnsName: 'kms.us-west-2.amazonaws.com' },
          kms: 'private-dns',
        },
      }),
    ).toBe('ERR_INVALID_OPTION endpoints')
  })
})
