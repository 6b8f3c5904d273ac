import path from 'node:path'

/**
 * A path as a person would type it here: relative when inside the working directory, else absolute. For
 * every place that names a file to a user: CLI output, `file:line:col` errors.
 */
export function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(p)
}
