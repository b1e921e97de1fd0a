// redactUrlCredentials lives in @privatelink/base (the option errors describe values with it);
// dns's own modules keep importing it from here.
export { redactUrlCredentials } from '@privatelink/base'
