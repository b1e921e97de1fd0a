export type {
  AwsRequestHandlerOptions,
  ServiceRoute,
  SharedDispatcherOptions,
} from './aws-request-handler.js'
export { AwsRequestHandler, createAwsRequestHandler } from './aws-request-handler.js'
export { endpointServiceName, serviceHostname } from './service-hosts.js'
