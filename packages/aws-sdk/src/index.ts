export type {
  AwsRequestHandlerOptions,
  GatewayOptions,
  ServiceRoute,
  SharedDispatcherOptions,
} from './aws-request-handler.js'
export { AwsRequestHandler, createAwsRequestHandler } from './aws-request-handler.js'
export type { AwsServiceEndpointOptions, S3EndpointKind } from './service-endpoint.js'
export { awsServiceEndpoint } from './service-endpoint.js'
export { endpointServiceName, serviceHostname } from './service-hosts.js'
