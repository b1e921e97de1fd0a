import { parseArgs } from 'node:util'
import { discoverEndpoint, PrivateLinkError } from '@privatelink/core'
import { createResolver } from '@privatelink/dns'

const usage = `privatelink <command>

  resolve <name> [--server host:port]... [--allow cidr]...   resolve through the private-only resolver
  describe (--endpoint-id vpce-... | --service-name ...) [--vpc-id vpc-...] [--region r] [--ec2-endpoint url]
                                                              print the endpoint as JSON (for PRIVATELINK_ENDPOINTS)
  lab [--private-dns-name name]                               run a local PrivateLink lab until Ctrl-C
`

function explain(error: unknown): number {
  if (PrivateLinkError.isInstance(error)) {
    console.error(`${error.code}: ${error.message}\nhint: ${error.hint}`)
    return 2
  }
  throw error
}

/** Returns the exit code: 0 ok, 1 usage, 2 a PrivateLinkError. */
export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'resolve': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            server: { type: 'string', multiple: true },
            allow: { type: 'string', multiple: true },
          },
        })
        if (positionals.length !== 1) break
        const resolver = createResolver({
          ...(values.server ? { servers: values.server } : {}),
          ...(values.allow ? { allowedRanges: values.allow } : {}),
        })
        const resolution = await resolver.resolve(positionals[0]!)
        out(JSON.stringify(resolution, null, 2))
        return 0
      }
      case 'describe': {
        const { values } = parseArgs({
          args: rest,
          options: {
            'endpoint-id': { type: 'string' },
            'service-name': { type: 'string' },
            'vpc-id': { type: 'string' },
            region: { type: 'string' },
            'ec2-endpoint': { type: 'string' },
          },
        })
        if (!values['endpoint-id'] && !values['service-name']) break
        const endpoint = await discoverEndpoint({
          ...(values['endpoint-id'] ? { endpointId: values['endpoint-id'] } : {}),
          ...(values['service-name'] ? { serviceName: values['service-name'] } : {}),
          ...(values['vpc-id'] ? { vpcId: values['vpc-id'] } : {}),
          ...(values.region ? { region: values.region } : {}),
          ...(values['ec2-endpoint']
            ? { ec2ClientConfig: { endpoint: values['ec2-endpoint'] } }
            : {}),
        })
        out(JSON.stringify(endpoint, null, 2))
        return 0
      }
      case 'lab': {
        const { values } = parseArgs({
          args: rest,
          options: { 'private-dns-name': { type: 'string' } },
        })
        const { startLab } = await import('@privatelink/lab')
        const lab = await startLab(
          values['private-dns-name'] ? { privateDnsName: values['private-dns-name'] } : {},
        )
        out(
          JSON.stringify(
            {
              endpoint: lab.endpoint,
              dns: lab.dns.address,
              aws: { endpoint: lab.aws.endpoint, region: lab.region },
              env: lab.metadata.env('ec2'),
            },
            null,
            2,
          ),
        )
        out('lab running; Ctrl-C to stop')
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))
        await lab.close()
        return 0
      }
    }
  } catch (error) {
    return explain(error)
  }
  console.error(usage)
  return 1
}
