import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'

/**
 * AWS error shapes the lab does not produce, served by msw to the real @aws-sdk/client-ec2 (Query
 * protocol, XML parsing included) and to the metadata clients. The EC2 "endpoint" is a loopback
 * address nothing listens on: a request msw did not handle would fail, never leave the host.
 */
export const EC2_ENDPOINT = 'http://127.0.0.1:9'
export const METADATA_ENDPOINT = 'http://127.0.0.1:9'

/** Credentials whose every part the secret scan looks for. */
export const SCAN_CREDENTIALS = {
  accessKeyId: 'AKIASCANTEST00000001',
  secretAccessKey: 'scanSecretKey/0123456789abcdefghijklmnopqrstu',
  sessionToken: 'IQoJb3JpZ2luX2VjEScanSessionToken0123456789abcdefghijklmnopqrstuvwxyz',
}

export function ec2Error(code: string, message: string, status: number): HttpResponse<string> {
  return new HttpResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>5f0e7a3c-0000-4000-8000-${status}00000000</RequestID></Response>`,
    { status, headers: { 'content-type': 'text/xml;charset=UTF-8' } },
  )
}

export interface Ec2Mock {
  server: ReturnType<typeof setupServer>
  /** Actions received, in order. */
  actions: string[]
  /** Authorization headers received (to check their signatures never show up in errors). */
  authorizations: string[]
  /** What the next EC2 requests get; the last entry repeats. */
  respond(...responses: (() => Response)[]): void
}

export function startEc2Mock(): Ec2Mock {
  const actions: string[] = []
  const authorizations: string[] = []
  let queue: (() => Response)[] = []
  const server = setupServer(
    http.post(`${EC2_ENDPOINT}/`, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      actions.push(body.get('Action') ?? '?')
      authorizations.push(request.headers.get('authorization') ?? '')
      const next = queue.length > 1 ? queue.shift()! : queue[0]
      return next === undefined ? ec2Error('InternalError', 'no response queued', 500) : next()
    }),
  )
  server.listen({ onUnhandledRequest: 'bypass' })
  return {
    server,
    actions,
    authorizations,
    respond: (...responses) => {
      queue = responses
    },
  }
}

export const metadataHandlers = {
  status: (status: number) => [
    http.put(`${METADATA_ENDPOINT}/latest/api/token`, () =>
      status === 200 ? new HttpResponse('token-abc') : new HttpResponse('nope', { status }),
    ),
    http.get(
      `${METADATA_ENDPOINT}/latest/meta-data/placement/:item`,
      () => new HttpResponse('missing', { status }),
    ),
  ],
  ecs: (status: number) => [
    http.get(`${METADATA_ENDPOINT}/ecs/task`, () =>
      status === 200 ? HttpResponse.json({ Cluster: 'x' }) : new HttpResponse('err', { status }),
    ),
  ],
}
