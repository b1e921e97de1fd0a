import type { CredentialsStore } from './credentials-store.js'
import { newId, newSuffix } from './identifiers.js'
import type { LabAws } from './lab.js'
import type { LabConfig } from './lab-config.js'
import type { LabInventory } from './lab-inventory.js'
import type { LabNames } from './lab-names.js'
import { verifySigV4 } from './sigv4-verifier.js'

/** The AWS handle: where the EC2/STS APIs listen, their data, and the switches tests use. */
export function labAws(
  config: LabConfig,
  names: LabNames,
  { inventory, labEndpoint }: LabInventory,
  store: CredentialsStore,
  api: { url: string; requests: LabAws['requests'] },
): LabAws {
  const { region, accountId } = config
  const { vpcId } = names
  return {
    endpoint: api.url,
    region,
    accountId,
    credentials: {
      accessKeyId: store.root.accessKeyId,
      secretAccessKey: store.root.secretAccessKey,
    },
    roles: config.roles,
    inventory,
    requests: api.requests,
    setEndpointState(state, id = names.endpointId) {
      const found = inventory.endpoints.find((e) => e.vpcEndpointId === id)
      if (found === undefined) throw new Error(`lab has no endpoint ${id}`)
      found.state = state
    },
    addEndpoint(extra = {}) {
      const id = newId('vpce')
      const extraVpc = extra.vpcId ?? vpcId
      if (!inventory.vpcAttributes.has(extraVpc))
        inventory.vpcAttributes.set(extraVpc, {
          enableDnsSupport: true,
          enableDnsHostnames: true,
        })
      inventory.endpoints.push({
        ...labEndpoint,
        vpcEndpointId: id,
        vpcId: extraVpc,
        serviceName:
          extra.serviceName ??
          `com.amazonaws.vpce.${extra.serviceRegion ?? region}.${newId('vpce-svc')}`,
        serviceRegion: extra.serviceRegion ?? region,
        state: extra.state ?? 'available',
        tags: [],
        dnsEntries: [
          {
            dnsName: `${id}-${newSuffix()}.${names.serviceId}.${region}.vpce.${names.domain}`,
            hostedZoneId: 'Z1YSA3EXCYUU9Z',
          },
        ],
      })
      return id
    },
    setVpcAttribute(attribute, value) {
      inventory.vpcAttributes.get(vpcId)![attribute] = value
    },
    setInterfaceAzIds(enabled) {
      inventory.interfaceAzIds = enabled
    },
    verify: (request, expected) => verifySigV4(request, store, expected),
    issueSession(seconds = 3600) {
      const key = store.issueSession(
        `arn:aws:sts::${accountId}:assumed-role/privatelink-lab/session`,
        accountId,
        'AROALAB:session',
        seconds,
      )
      return {
        accessKeyId: key.accessKeyId,
        secretAccessKey: key.secretAccessKey,
        sessionToken: key.sessionToken!,
        expiration: key.expiration!,
      }
    },
  }
}
