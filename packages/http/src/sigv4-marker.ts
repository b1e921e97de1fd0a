/**
 * Put on the dispatch options sigv4() hands down: the request is signed. The endpoint dispatcher
 * reads it before sending a request through passthrough. `Symbol.for`, so duplicate package
 * copies (ESM and CJS) agree; a symbol key survives the `{ ...options }` copies interceptors make.
 */
export const SIGNED = Symbol.for('@privatelink/http.sigv4-signed')

/** What the marker holds: where the signer was told it may sign. */
export interface SignedMark {
  service: string
  region: string
  /** The request's host was listed in sigv4's `hosts`, so it may go anywhere it is routed. */
  listed: boolean
}
