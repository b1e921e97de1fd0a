import { inspect } from 'node:util'

const SHOWN = '[redacted]'

/**
 * A command argument for a secret sent through ioredis (the re-AUTH's token): a Buffer, so ioredis
 * writes its bytes to the socket as they are, that describes itself as `[redacted]` everywhere
 * else. ioredis' debug log (`DEBUG=ioredis:*`) prints every command's arguments, joined as
 * strings and cut at 200 characters, or through `util.inspect`: both now show `[redacted]`, not
 * the start of the token (its cache name, access key ID, date and session token).
 */
export function secretArgument(secret: string): Buffer {
  const bytes = Buffer.from(secret)
  const shown = { value: () => SHOWN, enumerable: false }
  Object.defineProperties(bytes, {
    toString: shown,
    toLocaleString: shown,
    toJSON: shown,
    [inspect.custom]: shown,
  })
  return bytes
}
