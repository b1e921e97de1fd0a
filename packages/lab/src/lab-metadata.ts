import type { LabMetadata, LabZoneOptions } from './lab.js'
import { ECS_TASK_ID, type MetadataState } from './metadata-server.js'

/** Where the metadata server listens. */
export interface MetadataAddress {
  /** `http://host:port`. */
  url: string
  /** Its host. */
  host: string
  /** Its port. */
  port: number
}

/** The metadata handle: the values each runtime's environment holds, and switches on `state`. */
export function labMetadata(
  state: MetadataState,
  server: MetadataAddress,
  zones: readonly LabZoneOptions[],
  region: string,
): LabMetadata {
  const lambdaMetadataApi = `${server.host}:${server.port}`
  return {
    imdsEndpoint: server.url,
    ecsMetadataUri: `${server.url}/v4/${ECS_TASK_ID}`,
    lambdaMetadataApi,
    lambdaMetadataToken: state.lambdaToken,
    setZone(azName) {
      const zone = zones.find((z) => z.name === azName || z.id === azName)
      if (zone === undefined) throw new Error(`lab has no zone ${azName}`)
      state.azName = zone.name
      state.azId = zone.id
    },
    setHang(hang) {
      state.hang = hang
    },
    env(kind) {
      const base = { AWS_REGION: region }
      if (kind === 'lambda') {
        return {
          ...base,
          AWS_LAMBDA_FUNCTION_NAME: 'privatelink-lab',
          AWS_LAMBDA_METADATA_API: lambdaMetadataApi,
          AWS_LAMBDA_METADATA_TOKEN: state.lambdaToken,
        }
      }
      if (kind === 'ecs')
        return {
          ...base,
          ECS_CONTAINER_METADATA_URI_V4: `${server.url}/v4/${ECS_TASK_ID}`,
        }
      return { ...base, AWS_EC2_METADATA_SERVICE_ENDPOINT: server.url }
    },
  }
}
