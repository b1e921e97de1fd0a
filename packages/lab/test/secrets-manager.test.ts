import { Agent } from 'node:https'
import { inspect } from 'node:util'
import { Sha256 } from '@aws-crypto/sha256-js'
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager'
import type { PrivateLinkError } from '@privatelink/core'
import { type Lab, type SecretsManagerFront, secretsManagerFront, startLab } from '@privatelink/lab'
import { SignatureV4 } from '@smithy/signature-v4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const DB_SECRET = { username: 'app_user', password: 'lab-password-7f3a9c' }

// The lab clock stands 2 hours behind the real one: signatures are checked against lab time.
let now = Date.now() - 2 * 3_600_000
let lab: Lab
let front: SecretsManagerFront

beforeAll(async () => {
  front = secretsManagerFront({ secrets: { 'prod/db': DB_SECRET } })
  lab = await startLab({
    clock: () => now,
    fronts: [front],
    services: [{ name: 'secretsmanager', port: 443, target: { front: front.name } }],
  })
})
afterAll(() => lab?.close())

const client = (config: SecretsManagerClientConfig = {}) =>
  new SecretsManagerClient({
    region: lab.region,
    endpoint: front.endpoint,
    credentials: lab.aws.credentials,
    systemClockOffset: now - Date.now(),
    maxAttempts: 1,
    ...config,
  })

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the emulator accepted it'),
    (error: {
      name: string
      message: string
      $fault: string
      $metadata: { httpStatusCode?: number }
    }) => error,
  )

describe('secretsManagerFront: the real SecretsManagerClient against the lab', () => {
  it('GetSecretValue by name, full ARN and partial ARN, with every request SigV4-verified', async () => {
    const secrets = client()
    const arn = front.arn('prod/db')
    expect(arn).toMatch(
      new RegExp(
        `^arn:aws:secretsmanager:${lab.region}:${lab.aws.accountId}:secret:prod/db-[A-Za-z0-9]{6}$`,
      ),
    )
    for (const id of ['prod/db', arn, arn.slice(0, -7)]) {
      const got = await secrets.send(new GetSecretValueCommand({ SecretId: id }))
      expect(JSON.parse(got.SecretString!)).toEqual(DB_SECRET)
      expect(got.ARN).toBe(arn)
      expect(got.Name).toBe('prod/db')
      expect(got.VersionStages).toEqual(['AWSCURRENT'])
      expect(got.CreatedDate).toBeInstanceOf(Date)
      expect(Math.abs(got.CreatedDate!.getTime() - now)).toBeLessThan(60_000)
    }
    expect(front.requests.slice(-3)).toEqual(
      ['prod/db', arn, arn.slice(0, -7)].map((secretId) => ({
        operation: 'GetSecretValue',
        secretId,
        status: 200,
        principal: `arn:aws:iam::${lab.aws.accountId}:user/privatelink-lab`,
        via: 'http',
      })),
    )
  })

  it('PutSecretValue rotates: the new version is AWSCURRENT, the old one AWSPREVIOUS, the one before loses its label', async () => {
    const secrets = client()
    const created = await secrets.send(
      new CreateSecretCommand({ Name: 'rotating', SecretString: 'v1', Description: 'lab' }),
    )
    const first = created.VersionId!
    const second = await secrets.send(
      new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'v2' }),
    )
    expect(second.VersionStages).toEqual(['AWSCURRENT'])
    const current = await secrets.send(new GetSecretValueCommand({ SecretId: 'rotating' }))
    expect(current.SecretString).toBe('v2')
    expect(current.VersionId).toBe(second.VersionId)
    const previous = await secrets.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }),
    )
    expect(previous.SecretString).toBe('v1')
    expect(previous.VersionId).toBe(first)
    expect(previous.VersionStages).toEqual(['AWSPREVIOUS'])

    const third = await secrets.send(
      new PutSecretValueCommand({ SecretId: created.ARN!, SecretString: 'v3' }),
    )
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: 'rotating' }))
    expect(described).toMatchObject({ ARN: created.ARN, Name: 'rotating', Description: 'lab' })
    expect(described.VersionIdsToStages).toEqual({
      [second.VersionId!]: ['AWSPREVIOUS'],
      [third.VersionId!]: ['AWSCURRENT'],
    })
    // The label-less version stays readable by its id, as AWS keeps deprecated versions.
    const old = await secrets.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionId: first }),
    )
    expect(old).toMatchObject({ SecretString: 'v1', VersionStages: [] })
  })

  it('a retried PutSecretValue (same ClientRequestToken) is one version; the token with another value is refused', async () => {
    const secrets = client()
    await secrets.send(new CreateSecretCommand({ Name: 'idempotent', SecretString: 'a' }))
    const token = '5a1b2c3d-0000-4000-8000-00000000000a'
    const once = await secrets.send(
      new PutSecretValueCommand({
        SecretId: 'idempotent',
        SecretString: 'b',
        ClientRequestToken: token,
      }),
    )
    const again = await secrets.send(
      new PutSecretValueCommand({
        SecretId: 'idempotent',
        SecretString: 'b',
        ClientRequestToken: token,
      }),
    )
    expect(again.VersionId).toBe(once.VersionId)
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: 'idempotent' }))
    expect(Object.values(described.VersionIdsToStages!)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']])
    const error = await failure(
      secrets.send(
        new PutSecretValueCommand({
          SecretId: 'idempotent',
          SecretString: 'c',
          ClientRequestToken: token,
        }),
      ),
    )
    expect(error.name).toBe('ResourceExistsException')
  })

  it('put() from the test rotates too, and the next GetSecretValue sees it', async () => {
    const secrets = client()
    const rotated = { ...DB_SECRET, password: 'rotated-password-1' }
    const { versionId } = front.put('prod/db', rotated)
    const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
    expect(JSON.parse(got.SecretString!)).toEqual(rotated)
    expect(got.VersionId).toBe(versionId)
    const previous = await secrets.send(
      new GetSecretValueCommand({ SecretId: 'prod/db', VersionStage: 'AWSPREVIOUS' }),
    )
    expect(JSON.parse(previous.SecretString!)).toEqual(DB_SECRET)
    front.put('prod/db', DB_SECRET)
  })

  it('answers through the zones over TLS for secretsmanager.<region>.amazonaws.com, lab CA', async () => {
    const zone = lab.endpoint.zones[1]!
    const port = zone.portMap?.['443'] ?? 443
    const before = lab.zone(zone.azName).stats()['secretsmanager']!.accepted
    // Every name resolves to the zone's ENI: SNI and the certificate check use the service name.
    const agent = new Agent({
      ca: lab.ca.certificatePem,
      lookup: (_host, _options, callback) =>
        callback(null, [{ address: zone.addresses[0]!, family: 4 }]),
    })
    const secrets = client({
      endpoint: `https://${front.hostname}:${port}`,
      requestHandler: { httpsAgent: agent },
    })
    const got = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
    expect(JSON.parse(got.SecretString!)).toEqual(DB_SECRET)
    expect(front.hostname).toBe(`secretsmanager.${lab.region}.amazonaws.com`)
    expect(lab.zone(zone.azName).stats()['secretsmanager']!.accepted).toBe(before + 1)
    expect(front.requests.at(-1)).toMatchObject({
      operation: 'GetSecretValue',
      status: 200,
      via: 'tls',
    })
    agent.destroy()
  })

  it('never shows a secret value: not in the request log, not in util.inspect', async () => {
    const secrets = client()
    await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db' }))
    await secrets.send(
      new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'v4-hidden' }),
    )
    const shown = JSON.stringify(front.requests) + inspect(front, { depth: 10 })
    expect(shown).not.toContain(DB_SECRET.password)
    expect(shown).not.toContain('v4-hidden')
    expect(shown).toContain('PutSecretValue')
  })
})

describe('errors in AWS JSON shape, from the real client', () => {
  it('ResourceNotFoundException: an unknown secret, a stage the secret does not have', async () => {
    const secrets = client()
    const missing = await failure(secrets.send(new GetSecretValueCommand({ SecretId: 'nope' })))
    expect(missing.name).toBe('ResourceNotFoundException')
    expect(missing.message).toBe("Secrets Manager can't find the specified secret.")
    expect(missing.$fault).toBe('client')
    expect(missing.$metadata.httpStatusCode).toBe(400)

    await secrets.send(new CreateSecretCommand({ Name: 'fresh', SecretString: 'only' }))
    const stage = await failure(
      secrets.send(new GetSecretValueCommand({ SecretId: 'fresh', VersionStage: 'AWSPREVIOUS' })),
    )
    expect(stage.name).toBe('ResourceNotFoundException')
    expect(stage.message).toContain('staging label: AWSPREVIOUS')
    const empty = await secrets.send(new CreateSecretCommand({ Name: 'no-value-yet' }))
    expect(empty.VersionId).toBeUndefined()
    const current = await failure(
      secrets.send(new GetSecretValueCommand({ SecretId: 'no-value-yet' })),
    )
    expect(current.message).toContain('staging label: AWSCURRENT')
    const exists = await failure(
      secrets.send(new CreateSecretCommand({ Name: 'fresh', SecretString: 'x' })),
    )
    expect(exists.name).toBe('ResourceExistsException')
  })

  it('AccessDeniedException for a principal the secret does not allow', async () => {
    const session = lab.aws.issueSession(3600)
    front.put('restricted', 'for-the-root-key-only', {
      readers: [`arn:aws:iam::${lab.aws.accountId}:user/privatelink-lab`],
    })
    const allowed = await client().send(new GetSecretValueCommand({ SecretId: 'restricted' }))
    expect(allowed.SecretString).toBe('for-the-root-key-only')
    const denied = await failure(
      client({ credentials: { ...session, expiration: undefined } }).send(
        new GetSecretValueCommand({ SecretId: 'restricted' }),
      ),
    )
    expect(denied.name).toBe('AccessDeniedException')
    expect(denied.message).toContain('is not authorized to perform: secretsmanager:GetSecretValue')
    expect(denied.$metadata.httpStatusCode).toBe(400)
    expect(denied.message).not.toContain('for-the-root-key-only')
  })

  it('UnrecognizedClientException, InvalidSignatureException and ExpiredTokenException from the verifier', async () => {
    const { accessKeyId, secretAccessKey } = lab.aws.credentials
    const unknown = await failure(
      client({ credentials: { accessKeyId: 'AKIAUNKNOWNLABKEY000', secretAccessKey } }).send(
        new GetSecretValueCommand({ SecretId: 'prod/db' }),
      ),
    )
    expect(unknown.name).toBe('UnrecognizedClientException')
    expect(unknown.$metadata.httpStatusCode).toBe(400)

    const badSecret = await failure(
      client({ credentials: { accessKeyId, secretAccessKey: `${secretAccessKey}x` } }).send(
        new GetSecretValueCommand({ SecretId: 'prod/db' }),
      ),
    )
    expect(badSecret.name).toBe('InvalidSignatureException')
    expect(badSecret.message).toContain('does not match')

    const otherRegion = await failure(
      client({ region: 'eu-central-1' }).send(new GetSecretValueCommand({ SecretId: 'prod/db' })),
    )
    expect(otherRegion.name).toBe('InvalidSignatureException')
    expect(otherRegion.message).toContain("not 'eu-central-1'")

    const session = lab.aws.issueSession(60)
    now += 120_000
    try {
      const expired = await failure(
        client({ credentials: { ...session, expiration: undefined } }).send(
          new GetSecretValueCommand({ SecretId: 'prod/db' }),
        ),
      )
      expect(expired.name).toBe('ExpiredTokenException')
    } finally {
      now -= 120_000
    }
    const statuses = front.requests.slice(-4).map((r) => [r.error, r.status])
    expect(statuses).toEqual([
      ['UnrecognizedClientException', 400],
      ['InvalidSignatureException', 400],
      ['InvalidSignatureException', 400],
      ['ExpiredTokenException', 400],
    ])
  })

  it('on the wire: __type and Message as JSON 1.1; unsigned and unknown operations refused', async () => {
    const post = async (target: string, body: string, sign: boolean) => {
      const url = new URL(front.endpoint)
      const request = {
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        headers: {
          host: url.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': target,
        },
        body,
      }
      const signed = sign
        ? await new SignatureV4({
            credentials: lab.aws.credentials,
            region: lab.region,
            service: 'secretsmanager',
            sha256: Sha256,
          }).sign(request, { signingDate: new Date(now) })
        : request
      const response = await fetch(front.endpoint, {
        method: 'POST',
        headers: signed.headers as Record<string, string>,
        body,
      })
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: (await response.json()) as Record<string, unknown>,
      }
    }
    const unsigned = await post('secretsmanager.GetSecretValue', '{"SecretId":"prod/db"}', false)
    expect(unsigned).toEqual({
      status: 400,
      type: 'application/x-amz-json-1.1',
      body: {
        __type: 'MissingAuthenticationTokenException',
        Message: 'Missing Authentication Token',
      },
    })
    const listing = await post('secretsmanager.ListSecrets', '{}', true)
    expect(listing.status).toBe(400)
    expect(listing.body['__type']).toBe('UnknownOperationException')
    const notJson = await post('secretsmanager.GetSecretValue', '{"SecretId":', true)
    expect(notJson.body['__type']).toBe('SerializationException')
    const found = await post('secretsmanager.GetSecretValue', '{"SecretId":"prod/db"}', true)
    expect(found.status).toBe(200)
    expect(JSON.parse(found.body['SecretString'] as string)).toEqual(DB_SECRET)
  })
})

describe('secretsManagerFront options', () => {
  it.each([
    ['name', { name: '' }],
    ['hostnames', { hostnames: ['ok.example.com', ''] }],
    ['secrets', { secrets: 'prod/db' }],
  ])('refuses a bad %s with ERR_INVALID_OPTION', (option, options) => {
    let error: PrivateLinkError | undefined
    try {
      secretsManagerFront(options as never)
    } catch (caught) {
      error = caught as PrivateLinkError
    }
    expect(error?.code).toBe('ERR_INVALID_OPTION')
    expect(error?.details['option']).toBe(option)
  })

  it('put() and endpoint before the lab started say so', () => {
    const idle = secretsManagerFront()
    expect(() => idle.put('x', 'y')).toThrow(/once the lab has started/)
    expect(() => idle.endpoint).toThrow(/once the lab has started/)
  })
})
