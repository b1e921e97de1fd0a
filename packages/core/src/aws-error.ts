// AWS-error sanitising lives in @privatelink/base (every package keeps SDK errors only as these
// copies); core's own modules keep importing it from here.
export type { AwsErrorFacts } from '@privatelink/base'
export { awsErrorFacts, redact, sanitizedCause } from '@privatelink/base'
