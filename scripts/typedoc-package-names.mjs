// TypeDoc plugin: names each module of the API reference after the npm package whose
// src/index.ts it documents (`@privatelink/core`, not `core/src`), so the site reads the way users
// import it, without a `@module` tag in every index file.
import { readFileSync } from 'node:fs'
import { dirname, join, sep } from 'node:path'
import { Converter, ReflectionKind } from 'typedoc'

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile()
    const source = file?.fileName.split('/').join(sep)
    if (!source?.endsWith(join('src', 'index.ts'))) return
    const manifest = join(dirname(dirname(source)), 'package.json')
    reflection.name = JSON.parse(readFileSync(manifest, 'utf8')).name
  })
}
