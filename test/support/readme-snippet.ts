import { readFile } from 'node:fs/promises'

/**
 * The lines of an example file between its `// readme:start` and `// readme:end` markers (every
 * such region, in order), with the function body's indentation removed: what its README shows.
 */
export async function readmeRegion(exampleFile: URL): Promise<string> {
  const lines = (await readFile(exampleFile, 'utf8')).split('\n')
  const shown: string[] = []
  let inside = false
  for (const line of lines) {
    const marker = line.trim()
    if (marker === '// readme:start') inside = true
    else if (marker === '// readme:end') inside = false
    else if (inside) shown.push(line.startsWith('  ') ? line.slice(2) : line)
  }
  if (shown.length === 0) throw new Error(`${exampleFile.pathname}: no readme:start region`)
  return shown.join('\n')
}

/** The `import` lines of an example file (its README block must show the same imports). */
export async function importLines(exampleFile: URL): Promise<string[]> {
  const text = await readFile(exampleFile, 'utf8')
  return text.split('\n').filter((line) => line.startsWith('import '))
}
