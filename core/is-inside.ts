import path from 'node:path'

/** Whether `file` is `dir` or lies under it, by their paths (resolved against the working directory; links not followed). */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file))
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}
