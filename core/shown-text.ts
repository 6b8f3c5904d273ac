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

/**
 * C0 and C1 controls, DEL, and the characters that reorder or break what a terminal shows (line and
 * paragraph separators, bidirectional embeddings, overrides and isolates).
 */
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

function escapeUnprintable(c: string): string {
  if (c === '\n') return '\\n'
  if (c === '\r') return '\\r'
  if (c === '\t') return '\\t'
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/**
 * Text someone else chose (a sender's id, a plugin's error, a stored key) as a terminal is to show it: every
 * control character written as its JSON escape. Raw, an escape sequence is a command to the operator's
 * terminal (clear the screen, set the window's title, hide what follows) and a newline forges a line.
 */
export function printable(text: string): string {
  UNPRINTABLE.lastIndex = 0
  return UNPRINTABLE.test(text) ? text.replace(UNPRINTABLE, escapeUnprintable) : text
}
