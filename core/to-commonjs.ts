/**
 * TypeScript or an ES module as CommonJS: how the engine runs code it did not bundle itself, plugins (in
 * their sandbox), engine.config.ts, and a project's tests (`wxengine test`). Sucrase removes the types and
 * rewrites import/export, nothing else: no type check (the author's editor does that), and modern syntax stays
 * as it is (Node 20 runs it). Lines stay where they were, so errors point at the file's own lines; columns do
 * not (a type removed, an import's name rewritten as `(0, _x.name)`): `toCommonJsMapped` gives the map back.
 */
import { transform, type Options } from 'sucrase'

export function toCommonJs(code: string, filePath: string): string {
  return transform(code, optionsFor(filePath)).code
}

/**
 * As toCommonJs, with the source map's `mappings` (VLQ, one segment a token): for where in the source a
 * position of the compiled code is. Only when an error needs its place: the map costs a second transform.
 */
export function toCommonJsMapped(code: string, filePath: string): { code: string; mappings: string } {
  const out = transform(code, { ...optionsFor(filePath), sourceMapOptions: { compiledFilename: filePath } })
  return { code: out.code, mappings: out.sourceMap?.mappings ?? '' }
}

function optionsFor(filePath: string): Options {
  const isTs = /\.[mc]?ts$/.test(filePath)
  return { transforms: isTs ? ['typescript', 'imports'] : ['imports'], filePath, disableESTransforms: true }
}
