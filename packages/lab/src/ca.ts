import { randomBytes, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

/** A server certificate and its key, PEM, as `tls.createServer` takes them (`cert`, `key`). */
export interface IssuedCertificate {
  /** The leaf certificate. */
  certificatePem: string
  /** Its private key (PKCS #8): a test key, never a real one. */
  privateKeyPem: string
}

/** A throwaway certificate authority for lab servers; trust it in clients with `ca`. */
export interface TestCa {
  /** The CA certificate, to pass as `ca` to TLS clients. */
  certificatePem: string
  /** A server certificate for these DNS names (no IP SANs, so SNI mistakes show). */
  issue(names: string[], options?: { validDays?: number }): Promise<IssuedCertificate>
}

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const DAY = 86_400_000

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')
  return `-----BEGIN ${label}-----\n${base64.replace(/\n$/, '')}\n-----END ${label}-----\n`
}

const serial = () => `01${randomBytes(15).toString('hex')}`

/** An in-memory CA with EC P-256 keys (~20 ms per certificate). Certificates use the real clock: TLS checks it. */
export async function createTestCa(commonName = 'privatelink lab CA'): Promise<TestCa> {
  const crypto = webcrypto
  x509.cryptoProvider.set(crypto as never)
  const keys = (await crypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair
  const now = Date.now()
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return {
    certificatePem: ca.toString('pem'),
    async issue(names, options = {}) {
      if (names.length === 0) throw new Error('issue() needs at least one DNS name')
      const leafKeys = (await crypto.subtle.generateKey(algorithm, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair
      const issued = Date.now()
      const certificate = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${names[0]}`,
        issuer: ca.subject,
        notBefore: new Date(issued - DAY),
        notAfter: new Date(issued + (options.validDays ?? 30) * DAY),
        signingKey: keys.privateKey,
        publicKey: leafKeys.publicKey,
        signingAlgorithm: algorithm,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(
            names.map((value) => ({ type: 'dns' as const, value })),
          ),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
        ],
      })
      const privateKey = await crypto.subtle.exportKey('pkcs8', leafKeys.privateKey)
      return {
        certificatePem: certificate.toString('pem'),
        privateKeyPem: pem('PRIVATE KEY', privateKey),
      }
    },
  }
}
