// AWS Lambda in account A -> interface endpoint -> NLB -> RDS Proxy (IAM auth, TLS) in account B.
// Deploy notes: README.md next to this file.
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { createPool } from '@privatelink/pg'
import { poolOptionsFromEnv } from './config.js'
import { orderHandler } from './orders.js'

// Outside the handler: one pool per sandbox, reused by every invocation the sandbox serves.
export const pool = createPool(poolOptionsFromEnv(process.env, fromTemporaryCredentials))

export const handler = orderHandler(pool)
