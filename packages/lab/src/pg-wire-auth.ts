import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'

/** PostgreSQL's MD5 answer: `md5` + md5(md5(password + user) + salt). */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user, 'utf8')
    .digest('hex')
  return `md5${createHash('md5')
    .update(Buffer.concat([Buffer.from(inner, 'utf8'), salt]))
    .digest('hex')}`
}

const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest()

/**
 * The client side of SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL runs it: no channel binding, the
 * user name left empty (the server takes it from the startup message). Passwords are used as given
 * (no SASLprep), which matches PostgreSQL for ASCII passwords. `user` exists for RFC test vectors.
 */
export function scramClient(
  password: string,
  nonce = randomBytes(18).toString('base64'),
  user = '',
) {
  const clientFirstBare = `n=${user},r=${nonce}`
  let expectedServerSignature: Buffer | undefined
  return {
    /** client-first-message */
    first: () => `n,,${clientFirstBare}`,
    /** client-final-message for the server-first-message; throws when the server's nonce is forged. */
    final(serverFirst: string): string {
      const attributes = new Map(
        serverFirst.split(',').map((part) => [part.slice(0, 1), part.slice(2)] as const),
      )
      const serverNonce = attributes.get('r') ?? ''
      const salt = Buffer.from(attributes.get('s') ?? '', 'base64')
      const iterations = Number(attributes.get('i'))
      if (!serverNonce.startsWith(nonce) || salt.length === 0 || !(iterations > 0))
        throw new Error('invalid SCRAM server-first-message')
      const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256')
      const clientKey = hmac(salted, 'Client Key')
      const storedKey = createHash('sha256').update(clientKey).digest()
      const withoutProof = `c=biws,r=${serverNonce}`
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
      const clientSignature = hmac(storedKey, authMessage)
      const proof = Buffer.from(clientKey.map((byte, i) => byte ^ clientSignature[i]!))
      expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage)
      return `${withoutProof},p=${proof.toString('base64')}`
    },
    /** Checks the server-final-message: the server proves it knew the password too. */
    verify(serverFinal: string): boolean {
      const signature = Buffer.from(/(?:^|,)v=([^,]+)/.exec(serverFinal)?.[1] ?? '', 'base64')
      return (
        expectedServerSignature !== undefined &&
        signature.length === expectedServerSignature.length &&
        timingSafeEqual(signature, expectedServerSignature)
      )
    },
  }
}
