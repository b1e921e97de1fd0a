// Packs every publishable package as npm would see it, then runs publint and attw on the tarball,
// and checks that a scratch project can both require() and import() it.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const out = join(root, '.pack')
rmSync(out, { recursive: true, force: true })
mkdirSync(out)
const run = (command, args, cwd = root) => execFileSync(command, args, { cwd, stdio: 'inherit' })

const tarballs = {}
for (const dir of readdirSync(join(root, 'packages'))) {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'))
  if (manifest.private) continue
  const before = new Set(readdirSync(out))
  run('pnpm', ['pack', '--pack-destination', out], join(root, 'packages', dir))
  const tarball = readdirSync(out).find((file) => !before.has(file))
  tarballs[manifest.name] = join(out, tarball)
  console.log(`\n## ${manifest.name}`)
  run('pnpm', ['exec', 'publint', '--strict', tarballs[manifest.name]])
  // The cli package is a bin plus a small API; node10 resolution is not a target for any package.
  run('pnpm', ['exec', 'attw', '--pack', join(root, 'packages', dir), '--profile', 'node16'])
}

// A scratch project outside the workspace installs the tarballs and loads core both ways.
const scratch = join(out, 'scratch')
mkdirSync(scratch)
const dependencies = Object.fromEntries(
  Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]),
)
writeFileSync(
  join(scratch, 'package.json'),
  JSON.stringify(
    { name: 'scratch', private: true, dependencies, overrides: dependencies },
    null,
    2,
  ),
)
run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=peer'], scratch)
const probe = `
const cjs = require('@privatelink/core');
import('@privatelink/core').then((esm) => {
  const names = ['PrivateLinkError'];
  for (const name of names) if (typeof cjs[name] !== 'function' || typeof esm[name] !== 'function') throw new Error('missing ' + name);
  console.log('require() and import() of @privatelink/core both work');
});`
run('node', ['-e', probe], scratch)
