import { InvalidArgumentError } from 'commander'
import { shown } from '../redact.js'

// Parsers for doctor's policy-call and idle-timeout flags: a bad value is reported by its flag.

/** `service:Action` as IAM names actions, e.g. `s3:GetObject`; wildcards allowed. */
export function parseAction(value: string): string {
  if (!/^[a-z0-9-]+:[A-Za-z0-9*?]+$/.test(value))
    throw new InvalidArgumentError(
      `Expected an IAM action such as s3:GetObject, got ${shown(value)}.`,
    )
  return value
}

/** The resource the call acts on: an ARN, or `*` for an action that takes none. */
export function parseResourceArn(value: string): string {
  if (value !== '*' && !/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+$/.test(value))
    throw new InvalidArgumentError(
      `Expected an ARN such as arn:aws:s3:::my-bucket/key (or *), got ${shown(value)}.`,
    )
  return value
}

/** Who makes the call: an IAM user or role ARN, an account root, or an STS assumed-role ARN. */
export function parsePrincipalArn(value: string): string {
  if (
    !/^arn:aws[a-z-]*:iam::\d{12}:(root|(user|role)\/[\w+=,.@/-]+)$/.test(value) &&
    !/^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+$/.test(value)
  )
    throw new InvalidArgumentError(
      `Expected an IAM principal ARN such as arn:aws:iam::123456789012:role/app or arn:aws:sts::123456789012:assumed-role/app/session, got ${shown(value)}.`,
    )
  return value
}

/** Milliseconds, 0 included (0 is "never" for a pool's idle timeout). */
export function parseMilliseconds(value: string): number {
  const number = Number(value)
  if (!/^\d+$/.test(value) || number > 2_147_483_647)
    throw new InvalidArgumentError('Expected a whole number of milliseconds, 0 or more.')
  return number
}
