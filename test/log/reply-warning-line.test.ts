/**
 * The line a reply changed before it is sent leaves (engine.ts, answerOf: a news reply cut to the limit,
 * characters XML forbids removed) names whose message it was: the account, the user and the message's key,
 * as every other per-message line does, and the rule that built it. Without the user an operator could not
 * find the message the warning is about.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'
import { until } from '../support/until.ts'

const RULES = `
rules:
  - name: two-news
    keywords: [news]
    reply:
      type: news
      articles:
        - { title: A, url: "https://example.com/a" }
        - { title: B, url: "https://example.com/b" }
`

test('a news reply cut to one article: the warning says the account, the user, the key and the rule', async () => {
  const h = await startHarness({ rules: { 'news.yaml': RULES } })
  try {
    const res = await h.post('compat', push.text('reader-1', 'news'))
    assert.equal(res.status, 200)
    const line = await until('the reply warning', () => h.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('news reply cut')))
    assert.equal(line.level, 40)
    assert.equal(line.account, 'compat')
    assert.equal(line.openId, 'reader-1')
    assert.equal(line.rule, 'two-news')
    assert.equal(line.replyType, 'news')
    assert.equal(line.reason, line.msg)
    const entry = await until('the message event', () => h.events.find((e) => e.type === 'message'))
    assert.equal(line.key, entry.type === 'message' ? entry.entry.msgKey : undefined)
  } finally {
    await h.close()
  }
})

test("one account's flood of cut replies does not hold back another account's first warning line", async () => {
  const h = await startHarness({ rules: { 'news.yaml': RULES } })
  try {
    // Budgeted per reply type alone, the flood at `plain` spent the budget `compat`'s first warning needed.
    for (let i = 0; i < LINES_PER_KEY + 5; i++) assert.equal((await h.post('plain', push.text(`flooder-${i}`, 'news'))).status, 200)
    assert.equal((await h.post('compat', push.text('reader-2', 'news'))).status, 200)
    const cut = h.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('news reply cut') && l.held === undefined)
    assert.equal(cut.filter((l) => l.account === 'plain').length, LINES_PER_KEY, 'the flood used its budget of lines')
    assert.deepEqual(cut.filter((l) => l.account === 'compat').map((l) => l.openId), ['reader-2'], "the other account's warning has its own line")
  } finally {
    await h.close()
  }
})
