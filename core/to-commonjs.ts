/**
 * TypeScript or an ES module as CommonJS: how the engine runs code it did not bundle itself, plugins (in
 * their sandbox), engine.config.ts, and a project's tests (`wxengine test`). Sucrase removes the types and
 * rewrites import/export, nothing else: no type check (the author's editor does that), and modern syntax stays
 * as it is (Node 20 runs it). Lines stay where they were, so errors point at the file's own lines.
 */
import { transform } from 'sucrase'

export function toCommonJs(code: string, filePath: string): string {
  const isTs = /\.[mc]?ts$/.test(filePath)
  return transform(code, { transforms: isTs ? ['typescript', 'imports'] : ['imports'], filePath, disableESTransforms: true }).code
}
