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

// A scratch project outside the workspace installs the tarballs with the drivers (the peers, at the
// packages' own ranges, as `./dev pack` prints them) and loads every package both ways.
const scratch = join(out, 'scratch')
mkdirSync(scratch)
const dependencies = Object.fromEntries(
  Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]),
)
const peers = {}
for (const dir of readdirSync(join(root, 'packages'))) {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'))
  for (const [name, range] of Object.entries(manifest.peerDependencies ?? {}))
    if (!manifest.peerDependenciesMeta?.[name]?.optional) peers[name] = range
}
writeFileSync(
  join(scratch, 'package.json'),
  JSON.stringify(
    {
      name: 'scratch',
      private: true,
      dependencies: { ...dependencies, ...peers },
      overrides: dependencies,
    },
    null,
    2,
  ),
)
run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], scratch)
const probe = `
const names = ${JSON.stringify(Object.keys(tarballs).filter((name) => name !== 'privatelink'))};
(async () => {
  for (const name of names) {
    const cjs = require(name);
    const esm = await import(name);
    if (Object.keys(cjs).length === 0 || Object.keys(esm).length === 0) throw new Error('no exports: ' + name);
  }
  if (typeof require('@privatelink/core').PrivateLinkError !== 'function') throw new Error('missing PrivateLinkError');
  console.log('require() and import() work for ' + names.join(', '));
})();`
run('node', ['-e', probe], scratch)
