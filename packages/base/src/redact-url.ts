/** `scheme://` at the start of a string (RFC 3986's scheme syntax). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//

/** A query parameter's value: after `?`, `&` or `;` and a name, up to the next `&`, `;` or `#`. */
const QUERY_VALUE = /([?&;][^=&;#]*)=([^&;#]+)/g

/**
 * A string with what may be a credential in it replaced by `***`, for error messages and details
 * that describe a value the caller passed: the userinfo of anything URL-like
 * (`postgres://app:password@host` becomes `postgres://***@host`, `app:password@host` becomes
 * `***@host`) and every query parameter's value (`?password=x&X-Amz-Signature=y`, as in a
 * connection string or an IAM token, becomes `?password=***&X-Amz-Signature=***`). Parsing is
 * deliberately loose: a password may hold unescaped `@`, `/` or `#`, so the userinfo runs to the
 * last `@`. A string without `@` or `?` comes back as it is.
 */
export function redactUrlCredentials(value: string): string {
  let redacted = value
  const at = redacted.lastIndexOf('@')
  if (at > 0) {
    const scheme = SCHEME.exec(redacted)
    const start = scheme !== null && scheme[0].length <= at ? scheme[0].length : 0
    if (at > start) redacted = `${redacted.slice(0, start)}***${redacted.slice(at)}`
  }
  const query = redacted.indexOf('?')
  if (query < 0) return redacted
  return (
    redacted.slice(0, query) +
    redacted.slice(query).replace(QUERY_VALUE, (_all, name) => `${name}=***`)
  )
}
