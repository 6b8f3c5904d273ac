/**
 * Exactly once and the 5-second budget, end to end over HTTP (issue: state that survives).
 * WeChat retries a slow message up to 3 times, 5 s apart, with the same MsgId (protocol.md §5).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { globalKey, pluginNamespace } from '../../core/plugin/storage-keys.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { keyOfPush } from '../support/message-key.ts'
import { until } from '../support/until.ts'

const PLUGINS = path.resolve(import.meta.dirname, '../fixtures/engine-plugins')
const RULES = readFileSync(path.resolve(import.meta.dirname, '../fixtures/engine-rules/engine.yaml'), 'utf8')

describe('exactly once', () => {
  let h: Harness
  let fake: FakeWeChatApi
  before(async () => {
    fake = await startFakeWeChatApi({ appId: 'wxsafe0000000001', appSecret: 'safesecret' })
    h = await startHarness({
      rules: { 'r.yaml': RULES },
      plugins: PLUGINS,
      config: { platform: { apiBase: fake.baseUrl } },
      accounts: [
        { id: 'safe', token: 'safetoken', appId: 'wxsafe0000000001', appSecret: 'safesecret', mode: 'safe', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' },
      ],
    })
  })
  after(async () => {
    await h.close()
    await fake.close()
  })

  const runs = async () => (await h.runtime.store.kv.get(pluginNamespace('counter'), globalKey('runs'))) as number
  const sendRaw = async (search: string, body: string) => {
    const res = await fetch(`${h.url}/wechat/safe?${search}`, { method: 'POST', body })
    return { status: res.status, body: await res.text() }
  }

  it('sequential retries run the plugin once and get identical bytes', async () => {
    const before = (await runs()) ?? 0
    const fields = push.text('retry-user', 'count')
    const sim = h.sim('safe')
    // Each retry is signed anew (new timestamp and nonce), as WeChat does; the MsgId is the same.
    const answers = []
    for (let i = 0; i < 3; i++) {
      const req = sim.request(fields, { nonce: `retry${i}` })
      answers.push(await sendRaw(req.search, req.body))
    }
    assert.equal(await runs(), before + 1)
    assert.equal(answers[0].status, 200)
    assert.match(answers[0].body, /^<xml><Encrypt>/)
    assert.equal(answers[1].body, answers[0].body)
    assert.equal(answers[2].body, answers[0].body)
    assert.ok(h.events.filter((e) => e.type === 'duplicate').length >= 2)
    // Each retry's line names whose message it was, as every line about one message does: it had no openId.
    const retried = h.lines.filter((l) => l.msg === 'duplicate delivery answered from the reply cache' && l.key === keyOfPush('safe', fields))
    assert.equal(retried.length, 2, JSON.stringify(retried))
    assert.ok(retried.every((l) => l.account === 'safe' && l.openId === 'retry-user'), JSON.stringify(retried))
  })

  it('concurrent retries wait for the first and get identical bytes', async () => {
    const before = (await runs()) ?? 0
    const fields = push.text('concurrent-user', 'slow')
    const sim = h.sim('safe')
    const reqs = [0, 1, 2].map((i) => sim.request(fields, { nonce: `conc${i}` }))
    const answers = await Promise.all(reqs.map((r) => sendRaw(r.search, r.body)))
    assert.equal(await runs(), before + 1)
    assert.equal(new Set(answers.map((a) => a.body)).size, 1)
    const reply = sim.openReply(answers[0].body)
    assert.match(String(reply.fields?.Content), /^run \d+/)
  })

  it("a retry whose first delivery's instance gave its claim up runs the message itself, with a warning naming it (a fleet review)", async () => {
    const before = (await runs()) ?? 0
    const fields = push.text('orphan-user', 'count')
    const key = keyOfPush('safe', fields)
    // Another instance claimed the message, then failed or stopped: here, it gives the claim up while the
    // retry waits. Answered `success` instead, the message got no answer at all.
    assert.equal((await h.runtime.store.dedup.claim(key, 15_000)).state, 'claimed')
    setTimeout(() => void h.runtime.store.dedup.release(key), 100)
    const req = h.sim('safe').request(fields, { nonce: 'orphan' })
    const answer = await sendRaw(req.search, req.body)
    assert.equal(answer.status, 200)
    assert.match(String(h.sim('safe').openReply(answer.body).fields?.Content), new RegExp(`^run ${before + 1} `))
    assert.equal(await runs(), before + 1, 'run once, by the retry')
    const line = h.lines.find((l) => l.key === key && l.level === 40)
    assert.ok(line, JSON.stringify(h.lines.filter((l) => l.key === key)))
    assert.equal(line.openId, 'orphan-user')
    assert.match(String(line.msg), /^retry ran the message itself: the instance that claimed it gave the claim up \(its run failed\) or let it lapse/)
    // Its answer is recorded: the next retry replays it.
    const retry = h.sim('safe').request(fields, { nonce: 'orphan2' })
    const again = await sendRaw(retry.search, retry.body)
    assert.equal(again.body, answer.body)
    assert.equal(await runs(), before + 1)
  })

  it('events without MsgId are deduplicated by FromUserName + CreateTime + Event + EventKey', async () => {
    const fields = push.event('evt-user', 'CLICK', { EventKey: 'count' })
    const sim = h.sim('safe')
    const before = (await runs()) ?? 0
    const a = sim.request(fields, { nonce: 'e1' })
    const b = sim.request(fields, { nonce: 'e2' })
    const [ra, rb] = [await sendRaw(a.search, a.body), await sendRaw(b.search, b.body)]
    assert.equal(ra.body, rb.body)
    assert.equal(await runs(), before + 1, 'a CLICK whose key a text rule names runs that rule once')
    // A different CreateTime is a different event.
    const c = sim.request({ ...fields, CreateTime: Number(fields.CreateTime) + 1 })
    await sendRaw(c.search, c.body)
    assert.equal(await runs(), before + 2)
  })

  it('a text without MsgId (WeEngine\'s sample has none) is matched by its rule, and its retry is recognised', async () => {
    const { MsgId: _none, ...fields } = push.text('no-msgid-user', 'count')
    const sim = h.sim('safe')
    const before = (await runs()) ?? 0
    const a = sim.request(fields, { nonce: 'n1' })
    const b = sim.request(fields, { nonce: 'n2' })
    const [ra, rb] = [await sendRaw(a.search, a.body), await sendRaw(b.search, b.body)]
    assert.equal(ra.status, 200)
    // Matched by the `count` rule's plugin, not the default reply: it ran, once for both deliveries.
    assert.match(String(sim.openReply(ra.body).fields?.Content), /^run \d+/)
    assert.equal(rb.body, ra.body)
    assert.equal(await runs(), before + 1)
    // The same words a second later are the user's next message, not a retry.
    const other = sim.request({ ...fields, CreateTime: Number(fields.CreateTime) + 1 }, { nonce: 'n3' })
    await sendRaw(other.search, other.body)
    assert.equal(await runs(), before + 2)
  })

  it('a 10 s plugin: `success` within the budget, then the reply arrives through the customer-service API; retries get `success`', async () => {
    const sim = h.sim('safe')
    const fields = push.text('slow-user', 'sleep')
    const sent = fake.nextRequest('/cgi-bin/message/custom/send')
    const started = Date.now()
    const req = sim.request(fields)
    const first = await sendRaw(req.search, req.body)
    const elapsed = Date.now() - started
    assert.equal(first.body, 'success')
    assert.ok(elapsed < 5000, `answered in ${elapsed} ms, inside WeChat's 5 s`)
    assert.ok(elapsed >= h.runtime.config.limits.replyBudgetMs - 50, `waited for the budget (${elapsed} ms)`)
    // WeChat's retry 5 s later replays the same answer and does not start the plugin again.
    const retry = sim.request(fields, { nonce: 'late-retry' })
    assert.equal((await sendRaw(retry.search, retry.body)).body, 'success')
    await sent
    await h.runtime.platform.idle()
    const msg = fake.sent.map((m) => m.body).find((b) => b.touser === 'slow-user') as { msgtype: string; text: { content: string } } | undefined
    assert.ok(msg, 'the late reply reached the API')
    assert.equal(msg.msgtype, 'text')
    assert.equal(msg.text.content, 'slept 10000 ms')
    assert.ok(Date.now() - started >= 10_000)
    const outbox = await h.runtime.store.outbox.list('sent')
    assert.ok(outbox.some((e) => e.openId === 'slow-user'), 'the late reply is recorded as sent')
  })
})

describe('a state store that fails under a message answered inline (the synchronous path)', () => {
  it('answers `success`, logs the drop with its reason, and a retry runs once the store is back', async () => {
    const h = await startHarness({ rules: { 'r.yaml': 'rules:\n  - { name: hi, keywords: [hi], reply: { type: text, content: hello } }\n' } })
    try {
      const sessions = h.runtime.store.sessions
      const getSync = sessions.getSync
      assert.ok(getSync, 'the SQLite store looks sessions up synchronously')
      sessions.getSync = () => {
        throw new Error('disk I/O error')
      }
      const fields = push.text('failing-store-user', 'hi')
      const first = await h.post('plain', fields)
      assert.deepEqual([first.status, first.body], [200, 'success'])
      const dropped = h.lines.find((l) => l.msg === 'message dropped: state store unavailable')
      assert.equal(dropped?.code, 'STORE_UNAVAILABLE')
      assert.match(String(dropped?.reason), /disk I\/O error/)
      // The claim was given up with the failure: WeChat's retry of the same message runs, and is answered.
      sessions.getSync = getSync
      const retry = await h.post('plain', fields)
      assert.equal(retry.reply?.Content, 'hello')
    } finally {
      await h.close()
    }
  })
})

describe('a bug of ours on the way is not called a store outage (found by a code read)', () => {
  it('dropped as INTERNAL, with its stack in the line and its code in the message log', async () => {
    const h = await startHarness({ rules: { 'r.yaml': 'rules:\n  - { name: hi, keywords: [hi], reply: { type: text, content: hello } }\n' } })
    try {
      h.runtime.store.sessions.getSync = () => {
        throw new TypeError("Cannot read properties of undefined (reading 'plugin')")
      }
      const r = await h.post('plain', push.text('bug-user', 'hi'))
      assert.deepEqual([r.status, r.body], [200, 'success'])
      const line = h.lines.find((l) => l.msg === 'message dropped: internal error')
      assert.equal(line?.code, 'INTERNAL')
      assert.match(String((line?.err as { stack?: string } | undefined)?.stack), /TypeError: Cannot read properties of undefined/)
      assert.equal(h.lines.some((l) => l.msg === 'message dropped: state store unavailable'), false)
      await h.runtime.store.log.flush()
      const [row] = await h.runtime.store.log.query({ openId: 'bug-user', limit: 1 })
      assert.deepEqual([row?.outcome, row?.error], ['dropped', "INTERNAL: Cannot read properties of undefined (reading 'plugin')"])
    } finally {
      await h.close()
    }
  })
})

describe('a session write that fails after the plugin answered (found by a fleet review)', () => {
  const survey = () => startHarness({ plugins: path.join(import.meta.dirname, '../../plugins'), rules: { 'r.yaml': 'rules:\n  - { name: survey, keywords: [survey], plugin: survey }\n' } })

  it('one that may still land (timed out): the reply still reaches WeChat, and a line says the session was not saved', async () => {
    const h = await survey()
    try {
      h.runtime.store.sessions.put = () => Promise.reject(Object.assign(new Error('Command timed out'), { mayHaveApplied: true }))
      const survey = push.text('slow-store-user', 'survey')
      const r = await h.post('plain', survey)
      assert.match(String(r.reply?.Content), /^Question 1\/3: how did you hear about us\?/)
      const line = h.lines.find((l) => l.msg === 'session not saved: state store unavailable (the reply goes out)')
      assert.equal(line?.code, 'STORE_UNAVAILABLE')
      assert.equal(line?.plugin, 'survey')
      // Whose message, and which: the key joins the line to the message's log entry (it had none).
      assert.deepEqual([line?.account, line?.openId, line?.key], ['plain', 'slow-store-user', keyOfPush('plain', survey)])
      assert.match(String(line?.reason), /Command timed out/)
    } finally {
      await h.close()
    }
  })

  it('one that surely failed (a full disk): dropped with its reason, so the question is not asked of a dialogue that never began', async () => {
    const h = await survey()
    try {
      h.runtime.store.sessions.put = () => Promise.reject(new Error('database or disk is full'))
      const r = await h.post('plain', push.text('full-disk-user', 'survey'))
      assert.deepEqual([r.status, r.body], [200, 'success'])
      const line = h.lines.find((l) => l.msg === 'message dropped: state store unavailable')
      assert.match(String(line?.reason), /database or disk is full/)
    } finally {
      await h.close()
    }
  })
})

describe('routing that fails after the reply budget (a review of the change above)', () => {
  it('a store failure is said as one, not as a bug, and the message log says the message was dropped', async () => {
    const h = await startHarness({ config: { limits: { replyBudgetMs: 200 } }, rules: { 'r.yaml': 'rules:\n  - { name: hi, keywords: [hi], reply: { type: text, content: hello } }\n' } })
    try {
      const sessions = h.runtime.store.sessions
      // A session store across the network that answers too late, and then with a failure.
      sessions.getSync = undefined
      sessions.get = () => new Promise((_, reject) => setTimeout(() => reject(new Error('Command timed out')), 400))
      const r = await h.post('plain', push.text('late-store-user', 'hi'))
      assert.deepEqual([r.status, r.body], [200, 'success'])
      await until('the line', () => h.lines.find((l) => l.msg === 'routing failed after the budget'))
      const line = h.lines.find((l) => l.msg === 'routing failed after the budget')
      assert.deepEqual([line?.code, line?.reason, line?.err], ['STORE_UNAVAILABLE', 'Command timed out', undefined])
      await h.runtime.store.log.flush()
      const rows = await h.runtime.store.log.query({ openId: 'late-store-user' })
      assert.deepEqual(rows.map((e) => e.outcome).sort(), ['dropped', 'late'])
      assert.equal(rows.find((e) => e.outcome === 'dropped')?.error, 'STORE_UNAVAILABLE: Command timed out')
    } finally {
      await h.close()
    }
  })
})
