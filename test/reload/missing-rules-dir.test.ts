/**
 * A rules directory that does not exist (a mistyped RULES_DIR): the engine starts, as it may be created
 * later, but says at start that it will answer nothing. It used to start silently and answer every
 * message `success` (an operator's review); only `rules check` warned.
 */
import assert from 'node:assert/strict'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'

test('a missing rules directory: a start-up warning naming it, and messages get no reply', async () => {
  const missing = path.join(os.tmpdir(), `wxengine-no-such-rules-${process.pid}`)
  const h = await startHarness({ config: { rulesDir: missing } })
  try {
    const warnings = h.lines.filter((l) => l.level === 40).map((l) => String(l.msg))
    assert.ok(
      warnings.includes(`the rules directory ${missing} does not exist: no rules, so no replies (not even welcome or default); check RULES_DIR or rulesDir`),
      warnings.join('\n'),
    )
    const r = await h.post('plain', push.text('u1', 'hello'))
    assert.equal(r.body, 'success')
  } finally {
    await h.close()
  }
})

test('a rules directory that exists: no such warning', async () => {
  const h = await startHarness({ rules: { 'r.yaml': 'rules: []\n' } })
  try {
    assert.ok(!h.lines.some((l) => String(l.msg).includes('does not exist')), JSON.stringify(h.lines))
  } finally {
    await h.close()
  }
})
