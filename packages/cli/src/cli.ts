#!/usr/bin/env node
import { main } from './main.js'

// The AWS SDK prints an 8-line NodeVersionSupportWarning on Node < 22 with every first client.
// Its own switch turns off that one warning only; every other warning still prints. A user who set
// the variable keeps their value.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'

// `privatelink doctor ... | head`: a reader that stops early closes the pipe. Like other Unix
// tools, stop quietly instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // A finished command must not linger on something still closing (an SDK keep-alive socket,
    // a lab relay): exit on our own if the event loop has not emptied shortly after.
    setTimeout(() => process.exit(), 2000).unref()
  },
  (error: unknown) => {
    process.stderr.write(
      `privatelink: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exitCode = 1
  },
)
