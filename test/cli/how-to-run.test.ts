/** The command the printed "Next:" and "Try it:" lines run wxengine with (core/cli/how-to-run.ts). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { binaryCommand, shellWord } from '../../core/cli/how-to-run.ts'

test('the binary as typed, ./name in its folder, else its path', () => {
  assert.equal(binaryCommand('/srv/shop', 'wxengine', '/usr/local/bin/wxengine'), 'wxengine')
  assert.equal(binaryCommand('/srv', './wxengine', '/srv/wxengine'), './wxengine')
  assert.equal(binaryCommand('/srv/shop', '../wxengine', '/srv/wxengine'), '/srv/wxengine')
})

test('a path with a space or a character the shell reads is quoted, so a pasted line runs it (a review of the binary)', () => {
  // Unquoted, `./wx 引擎 send "foo hello" --local` ran `./wx`.
  assert.equal(binaryCommand('/tmp/项目 with space', '/tmp/项目 with space/wx 引擎', '/tmp/项目 with space/wx 引擎'), "'./wx 引擎'")
  assert.equal(binaryCommand('/srv/shop', './wx', '/tmp/a b/wx'), "'/tmp/a b/wx'")
  assert.equal(shellWord("/opt/it's/wx"), `'/opt/it'\\''s/wx'`)
  for (const c of ['$', '`', '!', '*', '?', '[', '(', '&', ';', '#', '~', '|', '<', '"', '\\']) assert.equal(shellWord(`a${c}b`)[0], "'", c)
  // Letters of any script, digits and the usual path characters need none.
  assert.equal(shellWord('/tmp/项目/wx-engine_1.2+x@y:z,w=v%'), '/tmp/项目/wx-engine_1.2+x@y:z,w=v%')
})
