/**
 * A pattern as it is written in a rules file: in YAML's single quotes, where a backslash is itself
 * (`'^x\-y$'`). JSON's quoting doubled every backslash, and the message seemed to say the engine read
 * another pattern than the one written (a newcomer's walkthrough). JSON when the pattern holds a line break or
 * another control character, which single quotes cannot show.
 */
export function shownPattern(source: string): string {
  return /[\u0000-\u001f\u007f]/.test(source) ? JSON.stringify(source) : `'${source.replaceAll("'", "''")}'`
}
