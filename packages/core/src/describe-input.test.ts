import { describe, expect, it } from 'vitest'
import { describeInput, inputText } from './describe-input.js'
import { parseEndpointDnsName } from './endpoint-dns-name.js'

// A connection URL pasted where a name belongs (endpoint: 'postgres://app:pw@...') must not show
// its password in ERR_INVALID_DNS_NAME or any other message built from the input.
describe('describeInput and inputText', () => {
  const url = 'postgres://app_user:s3cret-Passw0rd@db.example.com:5432/orders?sslpassword=k3y'

  it('redact userinfo and query values of URL-like strings', () => {
    for (const text of [describeInput(url), inputText(url)]) {
      expect(text).not.toContain('s3cret-Passw0rd')
      expect(text).not.toContain('k3y')
      expect(text).toContain('db.example.com')
    }
  })

  it('ERR_INVALID_DNS_NAME never echoes a password', () => {
    let caught: unknown
    try {
      parseEndpointDnsName(url)
    } catch (error) {
      caught = error
    }
    expect(caught).toMatchObject({ code: 'ERR_INVALID_DNS_NAME' })
    const shown = JSON.stringify({
      message: (caught as Error).message,
      details: (caught as { details?: unknown }).details,
    })
    expect(shown).not.toContain('s3cret-Passw0rd')
  })

  it('leave ordinary names alone', () => {
    expect(inputText('vpce-0123-abcd.vpce-svc-1.us-east-1.vpce.amazonaws.com')).toBe(
      'vpce-0123-abcd.vpce-svc-1.us-east-1.vpce.amazonaws.com',
    )
  })
})
