import { type Lab, startLab } from '@privatelink/lab'

/**
 * For a test suite (vitest globalSetup, a Jest environment, a mocha root hook): a lab endpoint in
 * front of your local stand-ins, and the environment `privatelink lab` would print, for the app.
 */
export async function startDevLab(options: {
  /** The local stand-in for the provider's API. */
  apiPort: number
  privateDnsName?: string
  /** The zone "this machine" is in. @default 'us-west-2a' */
  zone?: string
}): Promise<{ lab: Lab; env: Record<string, string>; close(): Promise<void> }> {
  const lab = await startLab({
    privateDnsName: options.privateDnsName ?? 'api.saas.example.com',
    services: [{ name: 'api', port: 443, target: { host: '127.0.0.1', port: options.apiPort } }],
  })
  lab.metadata.setZone(options.zone ?? 'us-west-2a')
  const env = {
    PRIVATELINK_ENDPOINTS: lab.endpointJson(),
    AWS_REGION: lab.region,
    ...lab.metadata.env('ec2'),
  }
  return { lab, env, close: () => lab.close() }
}
