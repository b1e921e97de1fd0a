/**
 * The part of @cloud-copilot/iam-simulate doctor uses, typed structurally here: the library is an
 * optional peer (AGPL-3.0-or-later, while privatelink is Apache-2.0), so neither the build nor the
 * published types may need it.
 */
export interface PolicySimulator {
  runSimulation(simulation: object, options: object): Promise<SimulationOutcome>
  getDenialReasons(analysis: unknown): SimulatorDenial[]
  getGrantReasons(analysis: unknown): SimulatorGrant[]
}

/** `runSimulation`'s answer, reduced to what the check reads. */
export type SimulationOutcome =
  | { resultType: 'error'; errors: { message: string } & Record<string, unknown> }
  | {
      resultType: 'single'
      overallResult: SimulatedDecision
      result: { analysis: unknown }
    }
  | {
      resultType: 'wildcard'
      overallResult: SimulatedDecision
      results: { analysis: unknown }[]
    }

export type SimulatedDecision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'

export interface SimulatorDenial {
  policyType: string
  denialType: 'Explicit' | 'Implicit'
  statementId?: string
  statementIndex?: number
}

export interface SimulatorGrant {
  policyType: string
  statementId?: string
  statementIndex: number
}

/** Loads the simulator; injectable so a test can play "not installed" without touching the disk. */
export type PolicySimulatorLoader = () => Promise<PolicySimulator>

/** The library itself, imported only when `--action` asks for an evaluation. */
export const loadPolicySimulator: PolicySimulatorLoader = async () =>
  (await import('@cloud-copilot/iam-simulate')) as unknown as PolicySimulator

/** Why the simulator could not be loaded: `missing` when it is not installed where we look. */
export function loadFailure(error: unknown): { missing: boolean; code: string } {
  const code = (error as { code?: unknown }).code
  const text = typeof code === 'string' ? code : 'ERR_LOAD'
  return {
    missing:
      text === 'ERR_MODULE_NOT_FOUND' ||
      text === 'MODULE_NOT_FOUND' ||
      /Cannot find (package|module)/.test(String((error as { message?: unknown }).message)),
    code: text,
  }
}

/** The call doctor evaluates the endpoint policy for. */
export interface PolicyCall {
  /** `service:Action`, e.g. `s3:GetObject`. */
  action: string
  /** The ARN the call acts on, or `*`. */
  resource: string
  /** Who calls: an IAM user or role ARN, or an STS assumed-role ARN. */
  principal: string
}

/** The caller's account and, for an assumed-role session, the role it is a session of. */
export function principalContext(principal: string): Record<string, string> {
  const parts = principal.split(':')
  const account = parts[4] ?? ''
  const session = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principal)
  const principalArn = session
    ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`
    : principal
  return { 'aws:PrincipalAccount': account, 'aws:PrincipalArn': principalArn }
}

/** Principals other than `"*"` in a policy: what a gateway endpoint's policy must not rely on. */
export function namesPrincipals(statements: { Principal?: unknown }[]): boolean {
  return statements.some((s) => s.Principal !== undefined && s.Principal !== '*')
}

/**
 * Runs the endpoint policy against the call, with AWS's principal rules for the endpoint's type.
 *
 * Interface endpoints honour named principals as resource policies do (an account's root ARN
 * stands for every principal of that account), while iam-simulate's own endpoint-policy input
 * accepts only `Principal: "*"`. So an interface endpoint's document goes in as the resource
 * policy of a resource in another account, with an identity policy that allows everything:
 * cross-account, the call needs both, the identity side always agrees, and the endpoint policy
 * alone decides (an explicit Deny over an Allow over the implicit deny).
 *
 * Gateway endpoints match principals only through conditions (`Principal: "*"` with
 * `aws:PrincipalArn`; a root ARN there means the root user alone), which is exactly iam-simulate's
 * endpoint-policy input: their document goes in as that, beside the same allow-all identity policy.
 */
export function runPolicyCall(
  simulator: PolicySimulator,
  document: unknown,
  call: PolicyCall,
  where: { endpointId: string; vpcId?: string; gateway?: boolean },
): Promise<SimulationOutcome> {
  const callerAccount = call.principal.split(':')[4] ?? ''
  const otherAccount = callerAccount === '999999999999' ? '000000000000' : '999999999999'
  return simulator.runSimulation(
    {
      request: {
        principal: call.principal,
        action: call.action,
        resource: {
          resource: call.resource,
          accountId: where.gateway === true ? callerAccount : otherAccount,
        },
        contextVariables: {
          ...principalContext(call.principal),
          // Present on every request through an endpoint: conditions on them evaluate as in AWS.
          'aws:SourceVpce': where.endpointId,
          ...(where.vpcId !== undefined ? { 'aws:SourceVpc': where.vpcId } : {}),
        },
      },
      identityPolicies: [
        {
          name: 'doctor-stand-in',
          policy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          },
        },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(where.gateway === true
        ? { vpcEndpointPolicies: [{ name: where.endpointId, policy: document }] }
        : { resourcePolicy: document }),
    },
    {},
  )
}
