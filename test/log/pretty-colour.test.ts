/**
 * `wxengine dev`'s readable lines are in colour on a terminal only: redirected to a file they held escape
 * codes (found by a newcomer's walkthrough).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'

const logger = path.resolve(import.meta.dirname, '../../core/log/logger.ts')

test('pretty lines to a pipe carry no colour codes', () => {
  const script = `import { createLogger } from ${JSON.stringify(logger)}; const log = createLogger({ pretty: true }); log.warn({ plugin: 'p' }, 'plain words'); log.flush?.()`
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.match(out, /WARN.*plain words/)
  assert.doesNotMatch(out, /\x1b\[/)
})
