import type { Endpoint, Locality } from '@privatelink/core'
import { type AwsCredentials, privateApiGateway, sigv4 } from '@privatelink/http'
import { request } from 'undici'

export interface InvoicesApiOptions {
  /** The `execute-api` interface endpoint in your VPC. */
  endpoint: Endpoint
  /** The private REST API's ID and stage, e.g. `a1b2c3d4e5`, `prod`. */
  apiId: string
  stage: string
  region: string
  /** IAM authorization (the API's resource policy allows your role): every request is SigV4-signed. */
  credentials: AwsCredentials | (() => Promise<AwsCredentials>)
  locality?: Locality
  ca?: string
}

/**
 * An API Gateway private API behind an execute-api interface endpoint, IAM-authorised. Header
 * mode (the default) calls the endpoint's own DNS name with `x-apigw-api-id`: it works whether or
 * not private DNS is on, and the certificate (`*.execute-api.<region>.vpce.amazonaws.com`) matches.
 */
export function createInvoicesApi(options: InvoicesApiOptions) {
  const api = privateApiGateway({
    apiId: options.apiId,
    stage: options.stage,
    region: options.region,
    endpoint: options.endpoint,
    ...(options.locality === undefined ? {} : { locality: options.locality }),
    ...(options.ca === undefined ? {} : { dispatcher: { ca: options.ca } }),
  })
  const signed = api.dispatcher.compose(
    sigv4({ service: 'execute-api', region: options.region, credentials: options.credentials }),
  )
  return {
    async getInvoice(id: string): Promise<{ status: number; body: unknown }> {
      const response = await request(`${api.baseUrl}/invoices/${encodeURIComponent(id)}`, {
        dispatcher: signed,
        headers: api.headers,
      })
      return { status: response.statusCode, body: await response.body.json() }
    },
    close: () => api.dispatcher.close(),
  }
}
