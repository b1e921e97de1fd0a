import { defineConfig, type Options } from 'tsup'

/** Every package builds the same way: ESM + CJS + .d.ts + sourcemaps from its entry points. */
export function packageConfig(entry: string[] = ['src/index.ts']): Options | Options[] {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
  }) as Options
}
