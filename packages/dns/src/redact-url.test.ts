import { describe, expect, it } from 'vitest'
import { redactUrlCredentials } from './redact-url.js'

const SECRET = 'correct-horse-battery-staple'

describe('redactUrlCredentials', () => {
  it.each([
    [
      `postgres://app:${SECRET}@db.proxy-abc.us-east-1.rds.amazonaws.com:5432/app`,
      'postgres://***@db.proxy-abc.us-east-1.rds.amazonaws.com:5432/app',
    ],
    [
      `rediss://default:${SECRET}@master.c.use1.cache.amazonaws.com:6379`,
      'rediss://***@master.c.use1.cache.amazonaws.com:6379',
    ],
    [`redis://:${SECRET}@h:6379`, 'redis://***@h:6379'],
    [`https://u:${SECRET}@api.example.com/x`, 'https://***@api.example.com/x'],
    [`app:${SECRET}@db.example.com:5432/app`, '***@db.example.com:5432/app'],
    // Unescaped @, / and # in the password: the userinfo runs to the last @.
    [`postgres://app:p@s/s#${SECRET}@h/db`, 'postgres://***@h/db'],
    [
      `postgres://h/db?user=app&password=${SECRET}&sslmode=require`,
      'postgres://h/db?user=***&password=***&sslmode=***',
    ],
    [
      `db.proxy-abc.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=app&X-Amz-Signature=${SECRET}`,
      'db.proxy-abc.us-east-1.rds.amazonaws.com:5432/?Action=***&DBUser=***&X-Amz-Signature=***',
    ],
  ])('%s -> %s', (value, expected) => {
    expect(redactUrlCredentials(value)).toBe(expected)
  })

  it.each([
    'db.proxy-abc.us-east-1.rds.amazonaws.com',
    'https://api.example.com/path',
    '@privatelink/dns',
    '10.0.0.0/8',
    '',
  ])('leaves %j as it is', (value) => {
    expect(redactUrlCredentials(value)).toBe(value)
  })
})
