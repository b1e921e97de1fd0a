// One-off generator kept for "how to add a package": node scripts/skeleton.mjs <dir> <name> "<description>"
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [dir, name, description] = process.argv.slice(2)
if (!dir || !name) throw new Error('usage: node scripts/skeleton.mjs <dir> <name> "<description>"')
const root = join('packages', dir)
mkdirSync(join(root, 'src'), { recursive: true })
const write = (file, text) => {
  if (!existsSync(join(root, file))) writeFileSync(join(root, file), text)
}
write(
  'package.json',
  `${JSON.stringify(
    {
      name,
      version: '0.1.0',
      description,
      license: 'Apache-2.0',
      type: 'module',
      engines: { node: '>=22.11.0' },
      sideEffects: false,
      main: './dist/index.cjs',
      module: './dist/index.js',
      types: './dist/index.d.cts',
      exports: {
        '.': {
          import: { types: './dist/index.d.ts', default: './dist/index.js' },
          require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
        },
        './package.json': './package.json',
      },
      files: ['dist', 'README.md'],
      scripts: { build: 'tsup' },
    },
    null,
    2,
  )}\n`,
)
write(
  'tsup.config.ts',
  `import { packageConfig } from '../../tsup.base.js'

export default packageConfig()
`,
)
write('tsconfig.json', `{\n  "extends": "../../tsconfig.base.json",\n  "include": ["src"]\n}\n`)
write('src/index.ts', `export {}\n`)
write('README.md', `# ${name}\n\n${description}\n`)
