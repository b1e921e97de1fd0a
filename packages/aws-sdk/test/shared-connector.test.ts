import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { createConnector } from '@privatelink/core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type AwsLab, OWN_ZONE, REGION, startAwsLab } from './aws-lab.js'

let aws: AwsLab
beforeAll(async () => {
  aws = await startAwsLab()
})
afterAll(async () => {
  await aws?.close()
})

describe('a Connector the user shares, in endpoints', () => {
  it('reaches the dispatcher as its `connector`: calls go through it, no deprecation warning', async () => {
    const warnings = vi.spyOn(process, 'emitWarning')
    const connector = createConnector({ endpoint: aws.lab.endpoint, port: 443, locality: OWN_ZONE })
    const handler = createAwsRequestHandlerWith(connector)
    try {
      const sts = new STSClient({
        region: REGION,
        credentials: aws.lab.aws.credentials,
        requestHandler: handler,
      })
      const identity = await sts.send(new GetCallerIdentityCommand({}))
      expect(identity.Account).toBe(aws.lab.aws.accountId)
      // The user's connector carried the call: the dispatcher did not make one of its own.
      expect(handler.dispatcherFor('sts.us-west-2.amazonaws.com')!.connector).toBe(connector)
      const codes = warnings.mock.calls.map(([, options]) =>
        typeof options === 'object' && options !== null
          ? (options as { code?: string }).code
          : undefined,
      )
      expect(codes.filter((code) => code?.startsWith('PRIVATELINK_DEP_'))).toEqual([])
    } finally {
      warnings.mockRestore()
      await handler.close()
      // Shared, so not closed by the handler: still the user's to close.
      await connector.close()
    }
  })
})

function createAwsRequestHandlerWith(connector: ReturnType<typeof createConnector>) {
  return aws.handlerFor({ endpoints: { sts: connector }, locality: undefined })
}
