/**
 * A message whose user's lock in the shared store is still held at the reply budget (another instance routing
 * the user's earlier message, or a lock whose release was lost) is routed without it, and a line says so
 * (engine.ts, routeUnderFleetLock). That line is budgeted (log/line-budget.ts): a lost release is met by every
 * message of its user until the lock lapses, a slow instance by every user it serves, and unbudgeted it was
 * one line a message. It names the account, the user, the message's key and a reason, as the other
 * per-message lines do. One engine on a real Redis; the locks are taken as another instance would take them.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { UNSUBSCRIBING } from '../../core/store/store.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startEnginesOnRedis, type EnginesOnRedis } from '../support/engines-on-redis.ts'
import { until } from '../support/until.ts'

const ACCOUNTS: AccountConfig[] = [{ id: 'main', token: 'maintoken', appId: 'wxmain0000000001', mode: 'plaintext' }]
const MSG = "the user's lock was still held at the reply budget (another instance routing their earlier message, or a lock whose release was lost): routed without it"

describe("the line of a message routed without its user's lock", () => {
  let fleet: EnginesOnRedis
  before(async () => {
    fleet = await startEnginesOnRedis(1, {
      accounts: ACCOUNTS,
      rules: { 'main.yaml': 'rules:\n  - { name: hi, keywords: [hi], reply: { type: text, content: hello } }\n' },
      config: { limits: { replyBudgetMs: 200 } },
    })
  })
  after(() => fleet?.close())

  it('names the account, user, key and reason, and a flood of them costs its budget of lines', async () => {
    const [h] = fleet.engines
    const users = Array.from({ length: LINES_PER_KEY + 5 }, (_, i) => `u-locked-${i}`)
    // Held elsewhere, as by another instance whose release was lost.
    const held = await Promise.all(users.map((u) => h.runtime.store.sessions.lockUser!('main', u, 60_000)))
    assert.ok(held.every((l) => l !== null))
    const answers = await Promise.all(users.map((u) => h.post('main', push.text(u, 'hi'))))
    assert.ok(answers.every((a) => a.status === 200))
    // Waited for: a message's `success` at the budget can leave before its wait's last ask for the lock comes
    // back (a loaded machine), and the line is written after that ask. Then every routing has ended (the
    // messages are recorded below) and no more lines can come.
    await until('the budget of lines written', () => h.lines.filter((l) => l.msg === MSG).length >= LINES_PER_KEY)
    await h.runtime.engine.idle()
    const lines = h.lines.filter((l) => l.msg === MSG)
    assert.equal(lines.length, LINES_PER_KEY, 'one line a message up to the budget, the rest counted')
    const first = lines[0]!
    assert.equal(first.level, 40)
    assert.equal(first.account, 'main')
    assert.ok(users.includes(String(first.openId)))
    assert.equal(first.reason, 'user lock still held at the reply budget')
    const messages = await until('every message recorded', () => {
      const m = h.events.filter((e) => e.type === 'message')
      return m.length >= users.length ? m : undefined
    })
    const keys = new Set(messages.map((e) => (e.type === 'message' ? e.entry.msgKey : '')))
    assert.ok(lines.every((l) => keys.has(String(l.key))), "each line names its message's key")
    // Their budget lines say what they waited for: no plugin ran, none of theirs was ahead in this instance.
    const spent = h.lines.filter((l) => String(l.msg).startsWith('reply budget spent'))
    assert.ok(spent.length > 0, JSON.stringify(h.lines.slice(-5)))
    for (const l of spent) {
      assert.equal(l.reason, "it waited for the user's session or lock in the state store")
      assert.equal(l.msg, "reply budget spent: answered success; it waited for the user's session or lock in the state store, the reply will go out late")
      assert.ok(keys.has(String(l.key)))
    }
    await Promise.all(held.map((l) => (l && l !== UNSUBSCRIBING ? l.release() : undefined)))
  })
})
