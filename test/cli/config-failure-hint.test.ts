/**
 * The advice after a configuration that did not load names the file to fix: engine.config.ts, or, when the
 * problem is in a file it imports (accounts.ts:3:5), that one too. It said "Fix engine.config.ts" for a syntax
 * error in accounts.ts, a file with nothing wrong in it.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { configFailureLines } from '../../core/cli/cli-context.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-config-hint-'))
writeFileSync(path.join(root, 'engine.config.ts'), 'export default {}\n')
after(() => rmSync(root, { recursive: true, force: true }))

/** The advice: the line after the reason. */
function configFailureHint(flags: { root: string }, reason: string): string | undefined {
  const lines = configFailureLines(flags, reason)
  assert.equal(lines[0], `wxengine: ${reason}`, 'the reason comes first')
  return lines[1]
}

test('a setting: engine.config.ts alone when every problem is there or in no file; the file named too when one is imported', () => {
  const own = 'invalid configuration (engine.config.ts):\n  engine.config.ts:5:13: limits.pluginTimeoutMs: must be a number, not a string\n  port: must be 0 to 65535 (PORT, from the environment)'
  assert.equal(configFailureHint({ root }, own), 'Fix the setting in engine.config.ts or the environment variable named above.')
  const imported = `${own}\n  ${path.join('shared', 'accounts.ts')}:2:70: accounts[0].mode: must be plaintext, compatible or safe (WECHAT_MODE)`
  assert.equal(configFailureHint({ root }, imported), 'Fix the setting in engine.config.ts, or in the file named before it, or the environment variable named above.')
  assert.equal(configFailureHint({ root }, 'invalid configuration (engine.config.ts):\n  accounts.ts: accounts[1].encodingAESKey: is required in safe mode'), 'Fix the setting in engine.config.ts, or in the file named before it, or the environment variable named above.')
})

test('a file that does not run: engine.config.ts, or the imported file the reason names', () => {
  assert.equal(configFailureHint({ root }, 'engine.config.ts:2:43: SyntaxError: Unexpected token'), 'Fix engine.config.ts where it says above.')
  assert.equal(configFailureHint({ root }, 'accounts.ts:3:5: SyntaxError: Unexpected token'), 'Fix the file named above, which engine.config.ts imports.')
  assert.equal(configFailureHint({ root }, 'plugins.json: Unexpected token } in JSON at position 9'), 'Fix the file named above, which engine.config.ts imports.')
})
