/**
 * Text someone else chose (a client's field, an element name, a stored value), as a reason or a log line
 * shows it: cut to `max` characters with an ellipsis, so that the line does not grow with what was sent.
 */
export function shortened(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** The same, quoted as JSON: control characters and quotes escaped, as a reason shows a value. */
export function quotedShort(text: string, max: number): string {
  return JSON.stringify(shortened(text, max))
}
