import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import {
  type Connector,
  createConnector,
  detectLocality,
  discoverEndpoint,
  type Endpoint,
  endpointFromConfig,
  type Locality,
  type PrivateLinkError,
  parseEndpointDnsName,
} from '@privatelink/core'
import {
  createResolver,
  type PrivateLinkError as DnsError,
  type Resolution,
} from '@privatelink/dns'
import {
  createEndpointDispatcher,
  type EndpointDispatcher,
  privateApiGateway,
  sigv4,
} from '@privatelink/http'
import type { Agent, Dispatcher } from 'undici'
import { describe, expectTypeOf, it } from 'vitest'

// Checked by `pnpm typecheck` (tsc over the test files); the runtime part is trivial.
describe('public types', () => {
  it('one error class across packages', () => {
    expectTypeOf<typeof PrivateLinkError>().toEqualTypeOf<typeof DnsError>()
    expectTypeOf<PrivateLinkError['code']>().toEqualTypeOf<string>()
    expectTypeOf<PrivateLinkError['details']>().toEqualTypeOf<Record<string, unknown>>()
  })

  it('core', () => {
    expectTypeOf(discoverEndpoint).returns.resolves.toEqualTypeOf<Endpoint>()
    expectTypeOf(endpointFromConfig).returns.toEqualTypeOf<Endpoint>()
    expectTypeOf(detectLocality).returns.resolves.toMatchTypeOf<Locality>()
    expectTypeOf(createConnector).returns.toEqualTypeOf<Connector>()
    expectTypeOf<ReturnType<Connector['connect']>>().resolves.toEqualTypeOf<Socket | TLSSocket>()
    expectTypeOf<Locality['source']>().toEqualTypeOf<
      'options' | 'env' | 'lambda' | 'ecs' | 'imds' | 'unknown'
    >()
    expectTypeOf(parseEndpointDnsName).returns.toHaveProperty('kind')
  })

  it('dns', () => {
    expectTypeOf(createResolver().resolve).returns.resolves.toEqualTypeOf<Resolution>()
    expectTypeOf<Resolution['source']>().toEqualTypeOf<'network' | 'cache' | 'stale' | 'literal'>()
  })

  it('http', () => {
    expectTypeOf(createEndpointDispatcher).returns.toEqualTypeOf<EndpointDispatcher>()
    expectTypeOf<EndpointDispatcher>().toMatchTypeOf<Dispatcher>()
    expectTypeOf(privateApiGateway).returns.toHaveProperty('dispatcher').toEqualTypeOf<Dispatcher>()
    expectTypeOf(sigv4).returns.toEqualTypeOf<Dispatcher.DispatcherComposeInterceptor>()
    // A connector plugs into undici's own Agent through `connect`.
    expectTypeOf<Connector['undici']>().toMatchTypeOf<
      NonNullable<ConstructorParameters<typeof Agent>[0]>['connect']
    >()
  })
})
