/** `text` as a regular expression that matches it literally (a file name, a YAML anchor, a setting's name). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
