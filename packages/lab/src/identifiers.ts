import { randomBytes } from 'node:crypto'

const hex = (length: number) =>
  randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length)
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'

export const newId = (prefix: string) => `${prefix}-${hex(17)}`
export const newRequestId = () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`
export function newSuffix(): string {
  let suffix = ''
  for (const byte of randomBytes(8)) suffix += alphabet[byte % alphabet.length]
  return suffix
}
export function newAccessKeyId(prefix: 'AKIA' | 'ASIA'): string {
  const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let id = prefix
  for (const byte of randomBytes(16)) id += upper[byte % upper.length]
  return id
}
export const newSecret = () => randomBytes(30).toString('base64')
