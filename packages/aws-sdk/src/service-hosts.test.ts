import { describe, expect, it } from 'vitest'
import { awsServiceEndpoint, s3VpceHostnames } from './service-endpoint.js'
import {
  endpointServiceName,
  serviceHostname,
  serviceOfEndpointName,
  serviceOfHostname,
} from './service-hosts.js'

const endpoint = {
  id: 'vpce-0123456789abcdef0',
  region: 'us-west-2',
  dnsName: 'vpce-0123456789abcdef0-abcdefgh.secretsmanager.us-west-2.vpce.amazonaws.com',
  zones: [{ azName: 'us-west-2a', addresses: ['10.0.1.5'] }],
}
const s3Endpoint = {
  ...endpoint,
  dnsName: '*.vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com',
}

describe('service hostnames', () => {
  it('maps a service key to the name the SDK calls, labels reversed, per partition', () => {
    expect(serviceHostname('secretsmanager', 'us-west-2')).toBe(
      'secretsmanager.us-west-2.amazonaws.com',
    )
    expect(serviceHostname('ecr.api', 'eu-west-1')).toBe('api.ecr.eu-west-1.amazonaws.com')
    expect(serviceHostname('sagemaker.runtime', 'us-east-1')).toBe(
      'runtime.sagemaker.us-east-1.amazonaws.com',
    )
    expect(serviceHostname('sts', 'cn-north-1')).toBe('sts.cn-north-1.amazonaws.com.cn')
    expect(endpointServiceName('kms', 'us-east-1')).toBe('com.amazonaws.us-east-1.kms')
  })

  it('reads the service of an AWS endpoint service name, not of a custom one', () => {
    expect(serviceOfEndpointName('com.amazonaws.us-west-2.ecr.dkr')).toEqual({
      region: 'us-west-2',
      service: 'ecr.dkr',
    })
    expect(
      serviceOfEndpointName('com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0'),
    ).toBeUndefined()
    expect(serviceOfEndpointName(undefined)).toBeUndefined()
  })

  it('names the service of a hostname for hints: regional, S3 forms, dual-stack, global, vpce', () => {
    expect(serviceOfHostname('kms.us-east-1.amazonaws.com')).toEqual({
      service: 'kms',
      region: 'us-east-1',
    })
    expect(serviceOfHostname('api.ecr.us-east-1.amazonaws.com')?.service).toBe('ecr.api')
    expect(serviceOfHostname('my-bucket.s3.us-east-1.amazonaws.com')).toEqual({
      service: 's3',
      region: 'us-east-1',
    })
    expect(
      serviceOfHostname('ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com')?.service,
    ).toBe('s3')
    expect(serviceOfHostname('b.s3.dualstack.eu-west-1.amazonaws.com')).toEqual({
      service: 's3',
      region: 'eu-west-1',
    })
    expect(serviceOfHostname('dynamodb.us-east-1.api.aws')?.service).toBe('dynamodb')
    expect(serviceOfHostname('sts.amazonaws.com')).toEqual({ service: 'sts', global: true })
    expect(serviceOfHostname(endpoint.dnsName)).toEqual({ vpce: true })
    expect(serviceOfHostname('api.saas.example.com')).toBeUndefined()
  })
})

describe('awsServiceEndpoint', () => {
  it('the service name with private DNS on, else the regional vpce name', () => {
    expect(
      awsServiceEndpoint({
        service: 'secretsmanager',
        endpoint: { ...endpoint, privateDnsName: 'secretsmanager.us-west-2.amazonaws.com' },
      }),
    ).toBe('https://secretsmanager.us-west-2.amazonaws.com')
    expect(awsServiceEndpoint({ service: 'secretsmanager', endpoint })).toBe(
      `https://${endpoint.dnsName}`,
    )
  })

  it('S3: bucket, accesspoint and control vpce names, without the listed wildcard', () => {
    const base = 'vpce-0123456789abcdef0-abcdefgh.s3.us-west-2.vpce.amazonaws.com'
    expect(awsServiceEndpoint({ service: 's3', endpoint: s3Endpoint })).toBe(
      `https://bucket.${base}`,
    )
    expect(awsServiceEndpoint({ service: 's3', endpoint: s3Endpoint, s3: 'accesspoint' })).toBe(
      `https://accesspoint.${base}`,
    )
    expect(awsServiceEndpoint({ service: 's3', endpoint: s3Endpoint, s3: 'control' })).toBe(
      `https://control.${base}`,
    )
    expect(s3VpceHostnames(s3Endpoint)).toEqual([
      `bucket.${base}`,
      `accesspoint.${base}`,
      `control.${base}`,
    ])
  })

  it('refuses bad input with ERR_INVALID_OPTION naming the option', () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return [
          (error as { code: string }).code,
          (error as { details: { option: string } }).details.option,
        ]
      }
      return undefined
    }
    expect(code(() => awsServiceEndpoint({ service: 'Secrets Manager', endpoint }))).toEqual([
      'ERR_INVALID_OPTION',
      'service',
    ])
    expect(
      code(() => awsServiceEndpoint({ service: 's3', endpoint: s3Endpoint, s3: 'web' as never })),
    ).toEqual(['ERR_INVALID_OPTION', 's3'])
    expect(code(() => awsServiceEndpoint({ service: 'sts', endpoint, s3: 'bucket' }))).toEqual([
      'ERR_INVALID_OPTION',
      's3',
    ])
    expect(code(() => awsServiceEndpoint({ service: 'sts', endpoint, region: 'west' }))).toEqual([
      'ERR_INVALID_OPTION',
      'region',
    ])
    expect(code(() => awsServiceEndpoint({ service: 'sts', endpoint: {} as never }))).toEqual([
      'ERR_INVALID_OPTION',
      'endpoint',
    ])
  })
})
