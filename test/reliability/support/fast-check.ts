// fast-check is a dependency of @privatelink/core's tests but not (yet) of the integration test
// package, whose package.json this suite does not own: import the copy pnpm installed for core.
// Replace with `export { default as fc } from 'fast-check'` once test/package.json lists it.
export { default as fc } from '../../../packages/core/node_modules/fast-check/lib/fast-check.js'
