import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Runs `script` (ES module source) in a fresh Node process, from source through tsx, with the
 * named modules made unloadable. Returns stdout; rejects with stderr.
 */
export function runWithDeniedModules(script: string, denied: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/support/deny-modules.mjs',
        '--input-type=module',
        '-e',
        script,
      ],
      {
        cwd: root,
        env: { ...process.env, PRIVATELINK_DENY_MODULES: denied.join(','), NODE_OPTIONS: '' },
        timeout: 30_000,
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    )
  })
}

export const sourceOf = (pkg: string) => `${root}packages/${pkg}/src/index.ts`
