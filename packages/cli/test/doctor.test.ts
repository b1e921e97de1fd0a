import type { Lab } from '@privatelink/lab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../src/index.js'
import { cli, type DoctorLab, labEnv, schemaValidator, startDoctorLab } from './support.js'

const NAME = 'api.saas.example.com'
let lab: Lab
let ca: DoctorLab['ca']
let stop: DoctorLab['stop'] | undefined

beforeAll(async () => {
  ;({ lab, ca, stop } = await startDoctorLab(NAME))
})
afterAll(() => stop?.())

const doctor = (target: string, ...extra: string[]) =>
  cli(
    [
      'doctor',
      target,
      '--dns',
      lab.dns.address,
      '--port',
      '8443',
      '--servername',
      NAME,
      '--ca',
      ca.file,
      '--starttls',
      'none',
      ...extra,
    ],
    { env: labEnv(lab) },
  )

/** The lines of one check, by its title ("reach us-west-2b", "tls", ...). */
const line = (stdout: string, title: string) =>
  stdout.split('\n').find((l) => l.slice(6).startsWith(`${title} `))

// In-process through main()'s io seam; the lab serves from this process too.
describe('privatelink doctor against the lab', { timeout: 60_000 }, () => {
  it('passes on a healthy lab: every check, exit 0', async () => {
    const run = await doctor(lab.endpoint.id)
    expect(run.code, run.stdout + run.stderr).toBe(0)
    for (const title of [
      'endpoint found',
      'endpoint state',
      'vpc enableDnsSupport',
      'vpc enableDnsHostnames',
      'private dns',
      'reach us-west-2a',
      'reach us-west-2b',
      'reach us-west-2c',
      'tls',
      'locality',
    ])
      expect(line(run.stdout, title), title).toMatch(/^pass /)
    expect(line(run.stdout, 'locality')).toContain(
      'this host runs in us-west-2a (usw2-az1) from imds; the connector uses us-west-2a (usw2-az1) first',
    )
    expect(run.stdout).toMatch(/passed, 0 warnings, 0 failed: no problem found/)
    expect(run.stderr).not.toContain('NodeVersionSupportWarning')
  })

  it('pendingAcceptance: the state line fails and says the provider must accept', async () => {
    lab.aws.setEndpointState('pendingAcceptance')
    try {
      const run = await doctor(lab.endpoint.id)
      expect(run.code).toBe(1)
      expect(line(run.stdout, 'endpoint state')).toMatch(
        /^fail {2}endpoint state\s+pendingAcceptance$/,
      )
      expect(run.stdout).toContain('fix: The service provider must accept the connection')
    } finally {
      lab.aws.setEndpointState('available')
    }
  })

  it('a public DNS answer fails the dns line', async () => {
    lab.dns.override(NAME, { a: ['52.94.133.131'] })
    try {
      const run = await doctor(NAME)
      expect(run.code).toBe(1)
      const dns = run.stdout.split('\n').find((l) => l.includes(`dns                    ${NAME}`))
      expect(dns).toMatch(
        new RegExp(
          `^fail .*${NAME} via ${lab.dns.address} -> 52.94.133.131: public, not the endpoint's addresses`,
        ),
      )
      expect(run.stdout).toContain('fix: This resolver does not answer with the endpoint')
    } finally {
      lab.dns.restore(NAME)
    }
  })

  it('private DNS off in the VPC (enableDnsHostnames false) fails its line', async () => {
    lab.aws.setVpcAttribute('enableDnsHostnames', false)
    try {
      const run = await doctor(NAME)
      expect(run.code).toBe(1)
      expect(line(run.stdout, 'vpc enableDnsHostnames')).toMatch(/^fail .*false on vpc-/)
      expect(run.stdout).toContain(`--vpc-id ${lab.endpoint.vpcId} --enable-dns-hostnames`)
      expect(line(run.stdout, 'vpc enableDnsSupport')).toMatch(/^pass /)
    } finally {
      lab.aws.setVpcAttribute('enableDnsHostnames', true)
    }
  })

  it('private DNS disabled on the endpoint fails for its private name', async () => {
    const endpoint = lab.aws.inventory.endpoints.find((e) => e.vpcEndpointId === lab.endpoint.id)!
    endpoint.privateDnsEnabled = false
    try {
      const run = await doctor(NAME)
      expect(run.code).toBe(1)
      expect(line(run.stdout, 'private dns')).toMatch(
        new RegExp(
          `^fail .*disabled: in this VPC ${NAME} is not answered with this endpoint's addresses$`,
        ),
      )
      expect(run.stdout).toContain(`--vpc-endpoint-id ${lab.endpoint.id} --private-dns-enabled`)
    } finally {
      endpoint.privateDnsEnabled = true
    }
  })

  it('a zone refusing the port fails that zone only', async () => {
    await lab.zone('us-west-2b').fail('refuse')
    try {
      const run = await doctor(lab.endpoint.id)
      expect(run.code).toBe(1)
      expect(line(run.stdout, 'reach us-west-2b')).toMatch(
        new RegExp(
          `^fail .*${lab.zone('us-west-2b').address.replaceAll('.', '\\.')}:\\d+ refused$`,
        ),
      )
      expect(line(run.stdout, 'reach us-west-2a')).toMatch(/^pass /)
      expect(line(run.stdout, 'reach us-west-2c')).toMatch(/^pass /)
      expect(run.stdout).toContain('fix: Nothing accepts port 8443 in this zone')
    } finally {
      await lab.zone('us-west-2b').restore()
    }
  })

  it('a wrong certificate name fails the tls line, naming what the certificate carries', async () => {
    const run = await doctor(lab.endpoint.id, '--servername', 'wrong.example.com')
    expect(run.code).toBe(1)
    expect(line(run.stdout, 'tls')).toMatch(
      /^fail .*wrong\.example\.com .*the certificate names api\.saas\.example\.com$/,
    )
    expect(run.stdout).toContain('fix: Pass --servername with a name on the certificate')
  })

  it('--json follows schema/doctor.schema.json, healthy and failing', async () => {
    const validate = await schemaValidator()
    const healthy = await doctor(lab.endpoint.id, '--json')
    const report = JSON.parse(healthy.stdout) as DoctorReport
    expect(validate('doctor.schema.json', report)).toEqual([])
    expect(healthy.code).toBe(0)
    expect(report).toMatchObject({
      schema: 'privatelink.doctor/1',
      ok: true,
      summary: { fail: 0, warn: 0, skip: 0 },
    })
    expect(report.checks.filter((c) => c.id === 'zone.reach').map((c) => c.zone)).toEqual([
      'us-west-2a',
      'us-west-2b',
      'us-west-2c',
    ])
    expect(healthy.stderr).toBe('')

    lab.aws.setEndpointState('pendingAcceptance')
    try {
      const failing = await doctor(lab.endpoint.id, '--json')
      const failed = JSON.parse(failing.stdout) as DoctorReport
      expect(validate('doctor.schema.json', failed)).toEqual([])
      expect(failing.code).toBe(1)
      expect(failed.ok).toBe(false)
      expect(failed.endpoint).toBeNull()
      expect(failed.checks.find((c) => c.id === 'endpoint.state')).toMatchObject({
        status: 'fail',
        seen: 'pendingAcceptance',
      })
    } finally {
      lab.aws.setEndpointState('available')
    }
  })
})
