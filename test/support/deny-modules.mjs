// Loaded with `node --import`: any attempt to resolve a module named in PRIVATELINK_DENY_MODULES
// fails loudly, so a test can prove that importing a package does not load it.
import { register } from 'node:module'

const denied = (process.env.PRIVATELINK_DENY_MODULES ?? '').split(',').filter(Boolean)
const hook = `
const denied = ${JSON.stringify(denied)};
export async function resolve(specifier, context, next) {
  if (denied.some((name) => specifier === name || specifier.startsWith(name + '/'))) {
    throw Object.assign(new Error('DENIED_MODULE ' + specifier), { code: 'ERR_DENIED_MODULE' });
  }
  return next(specifier, context);
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
