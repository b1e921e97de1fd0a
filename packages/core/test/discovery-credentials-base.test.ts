import { inspect } from 'node:util'
import { EC2Client } from '@aws-sdk/client-ec2'
import { createEndpointDiscovery, discoverEndpoint, PrivateLinkError } from '@privatelink/core'
import { type Lab, startLab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// A secret access key pasted where the credentials object belongs.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY'

let lab: Lab
beforeAll(async () => {
  lab = await startLab()
})
afterAll(() => lab.close())

/** Everything a user may print or ship from an error, cause chain included. */
function everything(error: unknown): string {
  const typed = error as PrivateLinkError
  return [
    typed.message,
    typed.hint,
    String(typed.details['received']),
    JSON.stringify(typed),
    inspect(typed, { depth: 10, showHidden: true }),
    String(typed.stack),
  ].join('\n')
}

async function refusal(credentials: unknown): Promise<PrivateLinkError> {
  const client = new EC2Client({
    endpoint: lab.aws.endpoint,
    region: lab.region,
    credentials: lab.aws.credentials,
    maxAttempts: 1,
  })
  try {
    const before = lab.aws.requests.length
    // An option error may throw at the call, before any promise: both count.
    const error = await (async () =>
      discoverEndpoint({
        endpointId: lab.endpoint.id,
        client,
        credentials: credentials as never,
      }))().then(
      () => undefined,
      (caught: unknown) => caught,
    )
    // Refused at the call: EC2 is never asked.
    expect(lab.aws.requests.length).toBe(before)
    expect(PrivateLinkError.isInstance(error)).toBe(true)
    return error as PrivateLinkError
  } finally {
    client.destroy()
  }
}

describe("discovery's credentials option (base's credentialsOption)", () => {
  it('a secret key given as credentials is described by its length, never shown', async () => {
    const error = await refusal(SECRET)
    expect(error).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'credentials', received: `a string of ${SECRET.length} characters` },
    })
    const shown = everything(error)
    expect(shown).not.toContain(SECRET)
    expect(shown).not.toContain(SECRET.slice(0, 20))
  })

  it('an object without an accessKeyId is refused before EC2 is asked, its secret not shown', async () => {
    const error = await refusal({ secretAccessKey: SECRET })
    expect(error).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: 'credentials', received: 'an object' },
    })
    expect(everything(error)).not.toContain(SECRET)
  })

  it('a revoked Proxy as credentials is ERR_INVALID_OPTION naming credentials', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const discovery = createEndpointDiscovery()
    const error = await (async () =>
      discovery.discover({ endpointId: lab.endpoint.id, credentials: proxy as never }))().then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      details: { option: expect.stringMatching(/credentials$/) },
    })
  })

  it('credentials and providers are still accepted (one discovery through the lab)', async () => {
    const provider = async () => lab.aws.credentials
    const config = { endpoint: lab.aws.endpoint, region: lab.region, maxAttempts: 1 }
    for (const credentials of [lab.aws.credentials, provider]) {
      const endpoint = await createEndpointDiscovery().discover({
        endpointId: lab.endpoint.id,
        region: lab.region,
        credentials,
        ec2ClientConfig: config,
      })
      expect(endpoint.id).toBe(lab.endpoint.id)
    }
  })
})
