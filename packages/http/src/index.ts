export type { EndpointAgentOptions } from './agent-options.js'
export type { HttpConnectorSettings } from './connector-source.js'
export type { EndpointDispatcherOptions } from './dispatcher-options.js'
export {
  createEndpointAgent,
  createEndpointHttpAgent,
  EndpointAgent,
  EndpointHttpAgent,
} from './endpoint-agent.js'
export { createEndpointDispatcher, EndpointDispatcher } from './endpoint-dispatcher.js'
export { fetchOptions } from './fetch-options.js'
export type { PrivateApi, PrivateApiGatewayOptions, PrivateApiMode } from './private-api-gateway.js'
export { privateApiGateway } from './private-api-gateway.js'
export type { RetryBudgetOptions, RetryOptions, RetryTimers } from './retry-policy.js'
export type { AwsCredentials, SigV4Options } from './sigv4.js'
export { sigv4 } from './sigv4.js'
