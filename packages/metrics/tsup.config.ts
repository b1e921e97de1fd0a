import type { Options } from 'tsup'
import { packageConfig } from '../../tsup.base.js'

// shims: `import.meta.url` in the CJS build too, for the lazy require of the optional
// @opentelemetry/api (global-meter-provider.ts).
const config: Options = { ...(packageConfig() as Options), shims: true }
export default config
