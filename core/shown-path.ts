import path from 'node:path'

/**
 * A path as a person would type it here: relative when inside the working directory, else absolute. For
 * every place that names a file to a user: CLI output, `file:line:col` errors.
 */
export function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(p)
}

/** `file:line:col` (or `file:line`), the file as the user would type it. */
export function sourcePlace(file: string, line: number, column: number | undefined): string {
  return `${shownPath(file)}:${line}${column === undefined ? '' : `:${column}`}`
}

/** `file:line:col: SyntaxError: message`, the form editors jump to; `file:line: ...` when the column is not known. */
export function syntaxErrorAt(file: string, line: number, column: number | undefined, message: string): string {
  return `${sourcePlace(file, line, column)}: SyntaxError: ${message}`
}

/** Sucrase's "Error transforming <file>: <message> (3:7)" as its parts; null for any other message. */
export function sucraseErrorParts(message: string): { file: string; message: string; line: number; column: number } | null {
  // The file may hold spaces ("My Bot/plugins/..."): up to the first ": ".
  const m = /Error transforming (.+?): (.*) \((\d+):(\d+)\)/.exec(message)
  return m ? { file: m[1], message: m[2], line: Number(m[3]), column: Number(m[4]) } : null
}
