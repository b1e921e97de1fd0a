import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { createAwsRequestHandler, type GatewayOptions } from '@privatelink/aws-sdk'
import type { Endpoint, Locality } from '@privatelink/core'

type MasterCredentials = Parameters<typeof fromTemporaryCredentials>[0]['masterCredentials']

export interface DataClientsOptions {
  /** The region of the table, the bucket and the endpoints. */
  region: string
  /** The interface endpoint for `com.amazonaws.<region>.dynamodb`, or `'gateway'`: the VPC's gateway endpoint. */
  dynamodb: Endpoint | 'gateway'
  /** The interface endpoint for `com.amazonaws.<region>.s3`, or `'gateway'`: the VPC's gateway endpoint. */
  s3: Endpoint | 'gateway'
  /** The interface endpoint for `com.amazonaws.<region>.sts`: AssumeRole goes through it too. */
  sts: Endpoint
  /** The role in the data account that owns the table and the bucket. */
  role: { arn: string; externalId?: string }
  /** This code's own credentials, which assume the role. @default the SDK's default chain */
  masterCredentials?: MasterCredentials
  /** For a `'gateway'` service: how its prefix list is read and its names resolved. */
  gateway?: GatewayOptions
  /** A service's URL when it is not its regional name on 443 (a local lab). @default {} */
  urls?: { sts?: string; s3?: string; dynamodb?: string }
  /** Where this code runs. @default detected (metadata) */
  locality?: Locality
  /** Extra CA certificates (PEM). @default Node's roots, which hold AWS's */
  ca?: string
}

/**
 * A DynamoDB and an S3 client in a VPC without NAT, with a cross-account role: one request handler
 * sends each service to its interface endpoint (every name the SDK computes: DynamoDB's
 * account-based one, S3's bucket names) or to the VPC's gateway endpoint (then only to the
 * service's managed prefix list), and the role's AssumeRole to STS's endpoint.
 */
export function openDataClients(options: DataClientsOptions) {
  const { region, role, urls = {} } = options
  const requestHandler = createAwsRequestHandler({
    endpoints: { dynamodb: options.dynamodb, s3: options.s3, sts: options.sts },
    region,
    ...(options.gateway === undefined ? {} : { gateway: options.gateway }),
    ...(options.locality === undefined ? {} : { locality: options.locality }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  })
  // The role in the data account; its STS client uses the same handler (STS's endpoint).
  const credentials = fromTemporaryCredentials({
    params: {
      RoleArn: role.arn,
      RoleSessionName: 'orders-archive',
      ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
    },
    ...(options.masterCredentials === undefined
      ? {}
      : { masterCredentials: options.masterCredentials }),
    clientConfig: {
      region,
      requestHandler,
      ...(urls.sts === undefined ? {} : { endpoint: urls.sts }),
    },
  })
  const dynamodb = new DynamoDBClient({
    region,
    credentials,
    requestHandler,
    ...(urls.dynamodb === undefined ? {} : { endpoint: urls.dynamodb }),
  })
  const s3 = new S3Client({
    region,
    credentials,
    requestHandler,
    ...(urls.s3 === undefined ? {} : { endpoint: urls.s3 }),
  })
  return {
    dynamodb,
    s3,
    requestHandler,
    /** Lets running calls finish, then closes every connection. */
    close: () => requestHandler.close(),
  }
}

export type DataClients = ReturnType<typeof openDataClients>
