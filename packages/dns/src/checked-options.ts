// checkOptions lives in @privatelink/base; dns's own modules keep importing it from here.
export type { CheckOptionsSettings } from '@privatelink/base'
export { checkOptions } from '@privatelink/base'
