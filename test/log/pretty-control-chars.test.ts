/**
 * `wxengine dev`'s readable lines show a message's control characters escaped. A message can quote others'
 * text (a plugin's error repeating what a user wrote): raw, an escape sequence was a command to the terminal
 * (retitle it, clear it, hide what follows) and a newline started a forged line of its own.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'

const logger = path.resolve(import.meta.dirname, '../../core/log/logger.ts')

test('pretty lines: control characters in a message are escaped, and it stays one line', () => {
  const said = 'plugin p failed: no command "x\n[12:00:00.000] INFO: forged\x1b]0;owned\x07\x1b[8m"'
  const script = `import { createLogger } from ${JSON.stringify(logger)}; const log = createLogger({ pretty: true }); log.warn({ plugin: 'p' }, JSON.parse(${JSON.stringify(JSON.stringify(said))})); log.info('next'); log.flush?.()`
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.doesNotMatch(out, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/)
  const starts = out.split('\n').filter((l) => /^\[/.test(l))
  assert.equal(starts.length, 2, out)
  assert.match(starts[0]!, /WARN: plugin p failed: no command "x\\n\[12:00:00\.000\] INFO: forged\\u001b\]0;owned\\u0007\\u001b\[8m"$/)
  assert.match(starts[1]!, /INFO: next$/)
})
