/**
 * A refused reload's log line lists the first problems and counts the rest (core/reload/refusal-line.ts): a
 * broken template merged into thousands of rules wrote every problem twice into one JSON line of megabytes,
 * which journald cuts into pieces. The last good set serves on either way.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { PROBLEMS_LISTED } from '../../core/reload/refusal-line.ts'
import { startHarness } from '../support/engine-harness.ts'

const hello = 'rules:\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: before }\n'

it('a reload refused for 500 problems logs the first ones and the count, and the last good set serves on', async () => {
  const h = await startHarness({ rules: { 'a.yaml': hello } })
  try {
    // One typo in a template, merged into 500 rules: an error for each (docs/rules.md).
    const rules = Array.from({ length: 500 }, (_, i) => `  - <<: *base\n    name: r${i}\n    keywords: [k${i}]\n`).join('')
    writeFileSync(path.join(h.dir, 'rules', 'a.yaml'), `${hello}  - &base\n    name: base\n    keywords: [base]\n    priority: high\n    reply: { type: text, content: after }\n${rules}`)
    assert.equal(await h.runtime.reload(), false)
    const refused = h.lines.find((l) => String(l.msg).startsWith('reload refused'))
    assert.ok(refused, JSON.stringify(h.lines))
    assert.equal(refused.problemCount, 501)
    assert.equal((refused.problems as string[]).length, PROBLEMS_LISTED)
    assert.match((refused.problems as string[])[0]!, /a\.yaml:8:15: rule "base": priority must be a whole number, got "high"/)
    assert.match(String(refused.msg), /\n {2}\.\.\. and 481 more \(wxengine rules check lists them all\)$/)
    assert.ok(JSON.stringify(refused).length < 10_000, `a line of ${JSON.stringify(refused).length} characters`)
    assert.equal((await h.post('plain', push.text('u1', 'hello'))).reply?.Content, 'before')
  } finally {
    await h.close()
  }
})

it('a reload refused for a few problems lists them all, with no count line', async () => {
  const h = await startHarness({ rules: { 'a.yaml': hello } })
  try {
    writeFileSync(path.join(h.dir, 'rules', 'a.yaml'), `${hello}    prority: 1\n`)
    assert.equal(await h.runtime.reload(), false)
    const refused = h.lines.find((l) => String(l.msg).startsWith('reload refused'))
    assert.equal(refused?.problemCount, 1)
    assert.doesNotMatch(String(refused?.msg), /more/)
  } finally {
    await h.close()
  }
})
