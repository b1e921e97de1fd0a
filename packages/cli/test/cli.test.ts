import { type Lab, startLab } from '@privatelink/lab'
import { main } from 'privatelink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let lab: Lab
beforeAll(async () => {
  lab = await startLab({ privateDnsName: 'api.saas.example.com' })
})
afterAll(() => lab.close())

describe('privatelink cli', () => {
  it('resolve: private answers, and the guard with its hint', async () => {
    const lines: string[] = []
    expect(
      await main(
        ['resolve', 'api.saas.example.com', '--server', lab.dns.address, '--allow', '127.0.0.0/8'],
        (l) => lines.push(l),
      ),
    ).toBe(0)
    expect(JSON.parse(lines[0]!).addresses).toHaveLength(3)
    expect(
      await main(['resolve', 'api.saas.example.com', '--server', lab.dns.address], () => {}),
    ).toBe(2)
  })

  it('describe prints JSON that endpointFromConfig reads back', async () => {
    const lines: string[] = []
    process.env['AWS_ACCESS_KEY_ID'] = lab.aws.credentials.accessKeyId
    process.env['AWS_SECRET_ACCESS_KEY'] = lab.aws.credentials.secretAccessKey
    try {
      const code = await main(
        [
          'describe',
          '--endpoint-id',
          lab.endpoint.id,
          '--region',
          lab.region,
          '--ec2-endpoint',
          lab.aws.endpoint,
        ],
        (l) => lines.push(l),
      )
      expect(code).toBe(0)
    } finally {
      delete process.env['AWS_ACCESS_KEY_ID']
      delete process.env['AWS_SECRET_ACCESS_KEY']
    }
    const { endpointFromConfig } = await import('@privatelink/core')
    expect(endpointFromConfig(lines[0]!).id).toBe(lab.endpoint.id)
  })

  it('prints usage for unknown commands', async () => {
    expect(await main(['nope'], () => {})).toBe(1)
  })
})
