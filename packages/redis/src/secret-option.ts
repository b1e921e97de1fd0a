// One home for this error (issue 26): base's, which describes a revoked Proxy instead of throwing
// on it. Kept as a module so the files that import it from here need no change.
export { invalidSecretOption } from '@privatelink/base'
