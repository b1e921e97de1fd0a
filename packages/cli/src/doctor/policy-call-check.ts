import type { CheckLog } from './check.js'
import { policyStatements, type Statement, statementText } from './policy-checks.js'
import {
  loadFailure,
  namesPrincipals,
  type PolicyCall,
  type PolicySimulator,
  type PolicySimulatorLoader,
  principalContext,
  runPolicyCall,
  type SimulationOutcome,
} from './policy-simulator.js'

/** The stable codes of the findings this check makes when it cannot evaluate. */
export const POLICY_CALL_CODES = {
  /** @cloud-copilot/iam-simulate is not installed: nothing was evaluated. */
  missing: 'ERR_POLICY_SIMULATOR_MISSING',
  /** It is installed but did not load. */
  load: 'ERR_POLICY_SIMULATOR_LOAD',
  /** The simulator refused the input: an unknown action, a resource the action does not take... */
  invalid: 'ERR_POLICY_CALL_INVALID',
} as const

/** What `--action` / `--resource` / `--principal` asked, and where the policy comes from. */
export interface PolicyCallRequest {
  action: string
  resource: string
  /** @default the endpoint owner's account root: any principal of that account */
  principal?: string
}

export interface PolicyCallTarget {
  endpointId: string
  vpcId?: string
  /** A gateway endpoint: principals are matched only through conditions. @default false */
  gateway?: boolean
  /** The endpoint's PolicyDocument; undefined when the service takes none. */
  document: string | undefined
  /** The endpoint owner's account, for the default principal. */
  ownerId?: string
}

const INSTALL =
  'Install @cloud-copilot/iam-simulate where privatelink can import it: next to it (npm i @cloud-copilot/iam-simulate in the project that has privatelink), globally beside a global privatelink (npm i -g @cloud-copilot/iam-simulate), or for one run (npx -p privatelink -p @cloud-copilot/iam-simulate privatelink doctor ...). It is not bundled because its licence, AGPL-3.0-or-later, is not privatelink’s Apache-2.0: installing it is your choice.'

/** One shell word: a policy's text may hold a quote (a Sid, a condition value). */
const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`

/** `"ReadOnly"` or `statement 2`, with the statement in one line when the document has it. */
function statementName(
  statements: Statement[],
  reason: { statementId?: string | undefined; statementIndex?: number },
): string {
  const index = (reason.statementIndex ?? 0) - 1
  const statement =
    statements[index] ?? statements.find((s) => s.Sid !== undefined && s.Sid === reason.statementId)
  if (statement === undefined)
    return reason.statementId
      ? `"${reason.statementId}"`
      : `statement ${reason.statementIndex ?? '?'}`
  return statementText(statement, statements.indexOf(statement))
}

/** The analysis that names the deciding statements: the single one, or the first pattern's. */
function analysisOf(outcome: Exclude<SimulationOutcome, { resultType: 'error' }>): unknown {
  return outcome.resultType === 'single' ? outcome.result.analysis : outcome.results[0]?.analysis
}

/**
 * `policy call`: whether the endpoint policy lets the call through (`--action`, `--resource`,
 * `--principal`), evaluated by @cloud-copilot/iam-simulate, loaded only now; the statement that
 * decides is named: an explicit Deny wins over any Allow, and with neither the call is implicitly
 * denied. Without the library, a warning that says how to install it, never a crash.
 */
export async function checkPolicyCall(
  log: CheckLog,
  target: PolicyCallTarget,
  request: PolicyCallRequest,
  load: PolicySimulatorLoader,
): Promise<void> {
  const started = performance.now()
  const base = { id: 'endpoint.policyCall', title: 'policy call' }
  const account = target.ownerId ?? '111111111111'
  const principal = request.principal ?? `arn:aws:iam::${account}:root`
  const who =
    request.principal === undefined
      ? `${principal} (no --principal: any principal of the endpoint's account)`
      : principal
  const call: PolicyCall = { action: request.action, resource: request.resource, principal }
  const what = `${call.action} on ${call.resource} by ${who}`
  if (target.document === undefined) {
    log.add(
      {
        ...base,
        status: 'pass',
        seen: `${what}: the endpoint has no policy (its service takes none), so it lets every call through`,
      },
      started,
    )
    return
  }
  const statements = policyStatements(target.document)
  if (statements === undefined) {
    log.add({ ...base, status: 'skip', seen: 'the policy document is not JSON' }, started)
    return
  }
  let simulator: Awaited<ReturnType<PolicySimulatorLoader>>
  try {
    simulator = await load()
  } catch (error) {
    const failure = loadFailure(error)
    log.add(
      {
        ...base,
        status: 'warn',
        code: failure.missing ? POLICY_CALL_CODES.missing : POLICY_CALL_CODES.load,
        seen: failure.missing
          ? `${what}: not evaluated, @cloud-copilot/iam-simulate is not installed`
          : `${what}: not evaluated, @cloud-copilot/iam-simulate did not load (${failure.code})`,
        fix: INSTALL,
      },
      started,
    )
    return
  }
  const gateway = target.gateway === true
  if (gateway && namesPrincipals(statements)) {
    log.add(
      {
        ...base,
        status: 'warn',
        code: POLICY_CALL_CODES.invalid,
        seen: `${what}: not evaluated, this gateway endpoint's policy names principals; a gateway endpoint matches none of them as an interface endpoint would (an account's root ARN there is the root user alone, not its roles)`,
        fix: 'Write the statements with Principal "*" and the principals in a condition (aws:PrincipalArn, aws:PrincipalAccount), as AWS advises for gateway endpoints; doctor then evaluates the call.',
      },
      started,
    )
    return
  }
  // Which policy the simulator's answer names the deciding statements of (see runPolicyCall).
  const policyType = gateway ? 'vpce' : 'resource'
  let outcome: SimulationOutcome
  try {
    outcome = await runPolicyCall(simulator, JSON.parse(target.document), call, {
      endpointId: target.endpointId,
      ...(target.vpcId !== undefined ? { vpcId: target.vpcId } : {}),
      gateway,
    })
  } catch (error) {
    // A library throwing on an input it does not model is a finding, never a crashed doctor.
    outcome = {
      resultType: 'error',
      errors: { message: `it threw ${(error as { name?: string }).name ?? 'an error'}` },
    }
  }
  if (outcome.resultType === 'error') {
    log.add(
      {
        ...base,
        status: 'warn',
        code: POLICY_CALL_CODES.invalid,
        seen: `${what}: the simulator refused the input (${outcome.errors.message})`,
        fix: 'Check --action (service:Action as IAM names it, e.g. s3:GetObject), --resource (an ARN of a resource type that action takes, or *) and --principal (an IAM user, role or assumed-role ARN); the policy itself is checked on the line above.',
      },
      started,
    )
    return
  }
  reportDecision(
    log,
    started,
    { ...base, what, target, request, call, statements },
    {
      simulator,
      outcome,
      policyType,
    },
  )
}

interface DecisionContext {
  id: string
  title: string
  what: string
  target: PolicyCallTarget
  request: PolicyCallRequest
  call: PolicyCall
  statements: Statement[]
}

/** The line for a decision: the Allow that grants, the Deny that refuses, or the implicit deny. */
function reportDecision(
  log: CheckLog,
  started: number,
  context: DecisionContext,
  decided: {
    simulator: PolicySimulator
    outcome: Exclude<SimulationOutcome, { resultType: 'error' }>
    policyType: string
  },
): void {
  const { what, target, request, call, statements } = context
  const base = { id: context.id, title: context.title }
  const { simulator, outcome, policyType } = decided
  const analysis = analysisOf(outcome)
  if (outcome.overallResult === 'Allowed') {
    const grant = simulator
      .getGrantReasons(analysis)
      .find((reason) => reason.policyType === policyType)
    log.add(
      {
        ...base,
        status: 'pass',
        seen: `${what}: allowed by ${grant ? statementName(statements, grant) : 'the policy'}`,
      },
      started,
    )
    return
  }
  if (outcome.overallResult === 'ExplicitlyDenied') {
    const deny = simulator
      .getDenialReasons(analysis)
      .find((reason) => reason.policyType === policyType && reason.denialType === 'Explicit')
    const name = deny ? statementName(statements, deny) : 'a Deny statement'
    log.add(
      {
        ...base,
        status: 'fail',
        seen: `${what}: explicitly denied by ${name} (a Deny wins over every Allow)`,
        fix: `Narrow or remove that Deny statement (its Action, Resource or Condition) so it no longer matches ${call.action}; no Allow can override it. Read the policy, edit it and set it with the command below.`,
        commands: [
          `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${target.endpointId} --query 'VpcEndpoints[0].PolicyDocument' --output text`,
          `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${target.endpointId} --policy-document file://policy.json`,
        ],
      },
      started,
    )
    return
  }
  // Implicit deny: no statement matches. The policy with one more Allow is ready to set.
  const allowed = {
    Version: '2012-10-17',
    Statement: [
      ...statements,
      {
        Sid: 'AllowTheCall',
        Effect: 'Allow',
        // A gateway endpoint matches principals only through a condition (see runPolicyCall).
        ...(target.gateway === true
          ? {
              Principal: '*',
              Condition:
                request.principal === undefined
                  ? {
                      StringEquals: {
                        'aws:PrincipalAccount': principalContext(call.principal)[
                          'aws:PrincipalAccount'
                        ],
                      },
                    }
                  : {
                      ArnEquals: {
                        'aws:PrincipalArn': principalContext(call.principal)['aws:PrincipalArn'],
                      },
                    },
            }
          : { Principal: { AWS: call.principal } }),
        Action: call.action,
        Resource: call.resource,
      },
    ],
  }
  log.add(
    {
      ...base,
      status: 'fail',
      seen: `${what}: implicitly denied, no statement allows it (${statements.length} statement${statements.length === 1 ? '' : 's'}: ${statements.map(statementText).join('; ')})`,
      fix: `Add a statement that allows ${call.action} on ${call.resource} for the caller${request.principal === undefined ? ' (pass --principal with your role to check for it rather than for the account)' : ''}; the command below sets the policy with one more Allow.`,
      commands: [
        `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${target.endpointId} --policy-document ${shellQuote(JSON.stringify(allowed))}`,
      ],
    },
    started,
  )
}
