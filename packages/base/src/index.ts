export type { AwsErrorFacts } from './aws-error.js'
export { awsErrorFacts, redact, sanitizedCause } from './aws-error.js'
export type { CheckOptionsSettings } from './checked-options.js'
export { checkOptions } from './checked-options.js'
export type {
  AwsCredentials,
  AwsCredentialsProvider,
  CredentialSourceOptions,
} from './credentials.js'
export { credentialSource, credentialsOption } from './credentials.js'
export { describeSecret, describeValue } from './describe-value.js'
export type { ErrorDetails, PrivateLinkErrorOptions } from './errors.js'
export { PrivateLinkError } from './errors.js'
export { invalidOption, invalidOptionDescribed, invalidSecretOption } from './invalid-option.js'
export { integerOption, requiredStringOption } from './option-values.js'
export { redactUrlCredentials } from './redact-url.js'
