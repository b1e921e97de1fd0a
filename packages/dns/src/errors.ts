// The error class and the option-error helpers live in @privatelink/base (one class, one
// `instanceof`, below every package); dns's own modules keep importing them from here.
export type { ErrorDetails, PrivateLinkErrorOptions } from '@privatelink/base'
export { integerOption, invalidOption, PrivateLinkError } from '@privatelink/base'
