import { mkdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useRunTmpdir } from './support/run-tmpdir.js'

describe('a test run leaves nothing in the temporary folder (issue 25)', () => {
  it('runs the tests with a temporary folder of the run, which the global setup removes', () => {
    expect(tmpdir()).toMatch(/[/\\]privatelink-test-run-[^/\\]+$/)
    expect(process.env['TMPDIR']).toBe(tmpdir())
  })

  it('finish() names what was left, removes it and restores TMPDIR', async () => {
    const env: NodeJS.ProcessEnv = { TMPDIR: tmpdir() }
    const run = await useRunTmpdir(env)
    expect(env['TMPDIR']).toBe(run.path)
    await mkdir(join(run.path, 'forgotten-folder'))
    await writeFile(join(run.path, 'forgotten-folder', 'ca.pem'), 'x')
    await mkdir(join(run.path, 'tsx-0')) // a tool's cache, not a test's leftover
    expect(await run.finish()).toEqual(['forgotten-folder'])
    expect(env['TMPDIR']).toBe(tmpdir())
    await expect(stat(run.path)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
