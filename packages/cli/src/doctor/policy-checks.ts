import type { CheckLog } from './check.js'

/** A statement of an endpoint policy, as the JSON document holds it. */
export interface Statement {
  Sid?: string
  Effect?: string
  Principal?: unknown
  NotPrincipal?: unknown
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Condition?: unknown
}

const list = (value: string | string[] | undefined) =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

const everyone = (principal: unknown) =>
  principal === '*' ||
  (typeof principal === 'object' &&
    principal !== null &&
    list((principal as { AWS?: string | string[] }).AWS).includes('*'))

/** Allow, anyone, any action, any resource, no condition: the default the seed says to restrict. */
const isFullAccess = (s: Statement) =>
  s.Effect === 'Allow' &&
  everyone(s.Principal) &&
  list(s.Action).includes('*') &&
  list(s.Resource).includes('*') &&
  s.Condition === undefined &&
  s.NotAction === undefined &&
  s.NotResource === undefined

function principalText(principal: unknown): string {
  if (principal === undefined) return 'anyone'
  if (everyone(principal)) return 'anyone'
  if (typeof principal === 'object' && principal !== null)
    return Object.values(principal as Record<string, string | string[]>)
      .flatMap((v) => list(v))
      .join(', ')
  return String(principal)
}

/** `"Sid": Allow s3:GetObject on arn:... for anyone`: a statement in one line. */
export function statementText(s: Statement, index: number): string {
  const name = s.Sid ? `"${s.Sid}"` : `statement ${index + 1}`
  const actions = s.NotAction
    ? `all but ${list(s.NotAction).join(', ')}`
    : list(s.Action).join(', ')
  const resources = s.NotResource
    ? `all but ${list(s.NotResource).join(', ')}`
    : list(s.Resource).join(', ')
  const condition = s.Condition === undefined ? '' : ' with conditions'
  return `${name}: ${s.Effect} ${actions} on ${resources} for ${principalText(s.Principal)}${condition}`
}

/** The statements of a policy document; undefined when it is not JSON. */
export function policyStatements(document: string): Statement[] | undefined {
  try {
    const parsed = JSON.parse(document) as { Statement?: Statement | Statement[] }
    return Array.isArray(parsed.Statement)
      ? parsed.Statement
      : parsed.Statement === undefined
        ? []
        : [parsed.Statement]
  } catch {
    return undefined
  }
}

/**
 * `endpoint policy`: what the endpoint lets through. Full access is a warning (the seed: restrict
 * it to the principals and actions the application needs); otherwise each statement is named, so a
 * call the application makes that no statement allows shows here.
 */
export function checkPolicy(
  log: CheckLog,
  endpointId: string,
  document: string | undefined,
  accountId: string | undefined,
): void {
  const started = performance.now()
  const base = { id: 'endpoint.policy', title: 'endpoint policy' }
  if (document === undefined) {
    log.add(
      { ...base, status: 'skip', seen: 'the endpoint reports no policy (the service has none)' },
      started,
    )
    return
  }
  const statements = policyStatements(document)
  if (statements === undefined) {
    log.add({ ...base, status: 'warn', seen: 'the policy document is not JSON' }, started)
    return
  }
  const full = statements.findIndex(isFullAccess)
  if (full >= 0) {
    const principal = accountId ? `arn:aws:iam::${accountId}:root` : 'arn:aws:iam::ACCOUNT-ID:root'
    const restricted = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: '*', Resource: '*' }],
    })
    log.add(
      {
        ...base,
        status: 'warn',
        seen: `full access (${statementText(statements[full]!, full)}): any principal may use the endpoint for anything`,
        fix: "Restrict the policy to the principals (and actions) your application uses; the command below keeps everything for this account's principals only.",
        commands: [
          `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${endpointId} --policy-document '${restricted}'`,
        ],
      },
      started,
    )
    return
  }
  const denies = statements.filter((s) => s.Effect === 'Deny').length
  log.add(
    {
      ...base,
      status: 'pass',
      seen: `restricted, ${statements.length} statement${statements.length === 1 ? '' : 's'}${denies > 0 ? ` (${denies} deny)` : ''}: ${statements.map(statementText).join('; ')}`,
    },
    started,
  )
}
