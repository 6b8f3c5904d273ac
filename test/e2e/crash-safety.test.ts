/**
 * kill -9 under load, then restart: the database opens, sessions are intact, and every message that was
 * answered is in the log. SIGTERM: stop accepting, finish in-flight messages, flush, exit 0.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLogger } from '../../core/log/logger.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { makeProject, spawnEngine } from '../support/engine-process.ts'
import { killUnderLoad, missingFromLog } from '../support/kill-under-load.ts'
import { pluginProcesses } from '../support/plugin-processes.ts'
import { until } from '../support/until.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const account = { id: 'default', token: 'crashtoken', appId: 'wxcrash000000001', mode: 'plaintext' as const }
const sim = createWeChatSimulator({ account })

async function send(url: string, fields: ReturnType<typeof push.text>) {
  const req = sim.request(fields)
  const res = await fetch(`${url}/wechat?${req.search}`, { method: 'POST', body: req.body })
  return { status: res.status, body: await res.text() }
}
const contentOf = (body: string) => sim.openReply(body).fields?.Content

describe('crash safety', () => {
  const projects: string[] = []
  after(() => projects.forEach((p) => rmSync(p, { recursive: true, force: true })))

  it('kill -9 under load: restart opens the database, sessions are intact, every answered message is logged', async () => {
    const project = makeProject({ accounts: [account] })
    projects.push(project)
    const dataDir = path.join(project, 'data')
    let engine = await spawnEngine(project, { DATA_DIR: dataDir })

    // A user in the middle of a multi-step dialogue.
    assert.match(String(contentOf((await send(engine.url, push.text('survey-user', 'survey'))).body)), /Question 1\/3/)
    assert.match(String(contentOf((await send(engine.url, push.text('survey-user', 'a friend'))).body)), /Question 2\/3/)

    // Load from 16 concurrent senders; kill -9 while it runs.
    const { exit, answered } = await killUnderLoad(engine, async (fields) => {
      const r = await send(engine.url, fields)
      return r.status === 200 ? contentOf(r.body) : undefined
    })
    assert.equal(exit, 'SIGKILL')

    // Every message that got an answer is in the log.
    const missing = await missingFromLog(path.join(dataDir, 'wxengine.db'), answered)
    assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered messages missing from the log`)
    const store = openSqliteStore({ file: path.join(dataDir, 'wxengine.db'), log: createLogger({ level: 'silent' }) })
    assert.ok((await store.sessions.get('default', 'survey-user')) !== null, 'the session survived')
    await store.close()

    // Restart on the same data: the dialogue goes on where it was.
    engine = await spawnEngine(project, { DATA_DIR: dataDir })
    assert.match(String(contentOf((await send(engine.url, push.text('survey-user', 'chatting'))).body)), /Question 3\/3/)
    engine.child.kill('SIGTERM')
    assert.equal(await engine.exited, 0)
  })

  it('kill -9 while a plugin works past the reply budget: the message answered `success` is in the log', async () => {
    // A plugin still working when the process dies: its message was answered `success` at the budget, and
    // WeChat will not send it again. Its log entry was journaled before that answer left.
    const sources = mkdtempSync(path.join(os.tmpdir(), 'wxengine-napper-'))
    projects.push(sources)
    mkdirSync(path.join(sources, 'plugins', 'napper'), { recursive: true })
    mkdirSync(path.join(sources, 'rules'))
    writeFileSync(
      path.join(sources, 'plugins', 'napper', 'index.ts'),
      `import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: 'napper', async handle(ctx) { await new Promise((r) => setTimeout(r, 60_000)); return ctx.reply.text('woke') } })\n`,
    )
    writeFileSync(path.join(sources, 'rules', 'main.yaml'), 'rules:\n  - name: nap\n    keywords: [nap]\n    plugin: napper\n')
    const project = makeProject({ accounts: [account], limits: { replyBudgetMs: 300, pluginTimeoutMs: 120_000 } }, { plugins: path.join(sources, 'plugins'), rules: path.join(sources, 'rules') })
    projects.push(project)
    const dataDir = path.join(project, 'data')
    const engine = await spawnEngine(project, { DATA_DIR: dataDir })
    const answer = await send(engine.url, push.text('napping-user', 'nap'))
    assert.deepEqual(answer, { status: 200, body: 'success' })
    engine.child.kill('SIGKILL')
    assert.equal(await engine.exited, 'SIGKILL')

    const store = openSqliteStore({ file: path.join(dataDir, 'wxengine.db'), log: createLogger({ level: 'silent' }) })
    try {
      const entries = await store.log.query({ openId: 'napping-user' })
      assert.deepEqual(
        entries.map((e) => [e.outcome, e.handledBy, e.rule, e.plugin, e.summary]),
        [['late', 'rule', undefined, 'napper', 'nap']],
      )
    } finally {
      await store.close()
    }
  })

  it('kill -9 right after an answer: WeChat\'s retry to the restarted engine gets the same bytes, the message does not run again', async () => {
    const project = makeProject({ accounts: [account], plugins: {} }, {
      plugins: path.resolve(import.meta.dirname, '../fixtures/engine-plugins'),
      rules: path.resolve(import.meta.dirname, '../fixtures/engine-rules'),
    })
    projects.push(project)
    const dataDir = path.join(project, 'data')
    let engine = await spawnEngine(project, { DATA_DIR: dataDir })
    // The counter plugin counts its runs in storage, and says when it ran.
    const fields = push.text('retry-user', 'count')
    const first = await send(engine.url, fields)
    assert.match(String(contentOf(first.body)), /^run 1 at \d+$/)
    // As if the answer had not reached WeChat: the engine dies, systemd starts it again, WeChat retries.
    engine.child.kill('SIGKILL')
    assert.equal(await engine.exited, 'SIGKILL')
    engine = await spawnEngine(project, { DATA_DIR: dataDir })
    try {
      const retry = await send(engine.url, fields)
      assert.equal(contentOf(retry.body), contentOf(first.body), 'the retry is answered from the recovered reply cache')
      // A new message does run: the counter saw one run before it.
      assert.match(String(contentOf((await send(engine.url, push.text('retry-user', 'count'))).body)), /^run 2 at /)
    } finally {
      engine.child.kill('SIGTERM')
      await engine.exited
    }
  })

  it('kill -9 with a late reply pending in the outbox: the next run sends it, and a failure for good is in the message log', async () => {
    // Found by a chaos review: the resumed send failed (the user had unsubscribed meanwhile), its outbox entry and
    // a `late reply failed` line said so, and the message log still said only that the reply went out late.
    const fake = await startFakeWeChatApi({ appId: 'wxcrash000000002', appSecret: 'crashsecret' })
    const withSecret = { ...account, appId: 'wxcrash000000002', appSecret: 'crashsecret' }
    const withSecretSim = createWeChatSimulator({ account: withSecret })
    const project = makeProject({ accounts: [withSecret], platform: { apiBase: fake.baseUrl }, limits: { replyBudgetMs: 200 } }, {
      plugins: path.resolve(import.meta.dirname, '../fixtures/engine-plugins'),
      rules: path.resolve(import.meta.dirname, '../fixtures/engine-rules'),
    })
    projects.push(project)
    const dataDir = path.join(project, 'data')
    let engine = await spawnEngine(project, { DATA_DIR: dataDir })
    try {
      // The platform is busy for these users: each late reply's first try fails, and it waits to try again.
      for (const user of ['back-user', 'gone-user']) {
        fake.setUserError(user, -1)
        const req = withSecretSim.request(push.text(user, 'slow'))
        const res = await fetch(`${engine.url}/wechat?${req.search}`, { method: 'POST', body: req.body })
        assert.equal(await res.text(), 'success')
      }
      // A first try for each user, not two tries: under load back-user's retry (0.5-1 s after its first) could
      // come before gone-user's plugin had finished, and the kill then lost gone-user's second 'late' entry.
      const triedFor = (user: string) => fake.requests.some((r) => r.path === '/cgi-bin/message/custom/send' && r.errcode === -1 && (r.body as { touser?: string } | undefined)?.touser === user)
      await until('the first tries', () => triedFor('back-user') && triedFor('gone-user'))
      engine.child.kill('SIGKILL')
      assert.equal(await engine.exited, 'SIGKILL')

      // The platform is back for one; the other unsubscribed meanwhile, so the next run's try fails for good.
      fake.setUserError('back-user', null)
      fake.setUserError('gone-user', 43004)
      engine = await spawnEngine(project, { DATA_DIR: dataDir })
      await until('the resumed send failed', () => /"msg":"late reply failed"/.test(engine.output()))
      await until('the resumed send', () => fake.sent.find((m) => m.body.touser === 'back-user'))
      assert.match(JSON.stringify(fake.sent.map((m) => m.body)), /^\[\{"touser":"back-user","msgtype":"text","text":\{"content":"run \d+ at \d+"\}\}\]$/)
      engine.child.kill('SIGTERM')
      assert.equal(await engine.exited, 0)
    } finally {
      engine.child.kill('SIGKILL')
      await fake.close()
    }
    const store = openSqliteStore({ file: path.join(dataDir, 'wxengine.db'), log: createLogger({ level: 'silent' }) })
    try {
      assert.deepEqual((await store.outbox.list()).map((e) => [e.openId, e.status]), [['back-user', 'sent'], ['gone-user', 'failed']])
      const entries = (await store.log.query({ openId: 'gone-user' })).reverse() // oldest first
      assert.deepEqual(entries.map((e) => [e.outcome, e.plugin, e.summary]), [['late', 'counter', 'slow'], ['late', 'counter', 'slow'], ['failed', 'counter', 'slow']])
      assert.match(String(entries[2].error), /^late reply failed: API_ERROR: .*43004/)
      assert.equal(entries[2].msgKey, entries[0].msgKey)
    } finally {
      await store.close()
    }
  })

  it('SIGTERM: stops accepting, finishes in-flight messages, flushes, exits 0', async () => {
    const project = makeProject({
      accounts: [account],
      plugins: {},
    }, { plugins: path.resolve(import.meta.dirname, '../fixtures/engine-plugins'), rules: path.resolve(import.meta.dirname, '../fixtures/engine-rules') })
    projects.push(project)
    const dataDir = path.join(project, 'data')
    const engine = await spawnEngine(project, { DATA_DIR: dataDir })
    // A message whose plugin takes 400 ms is in flight when the signal arrives.
    const inFlight = send(engine.url, push.text('term-user', 'slow'))
    // In flight once the plugin has counted its run, before its wait: a fixed 100 ms after sending did not
    // ensure it on a loaded machine, and a SIGTERM before the request arrived had it refused, not finished.
    const db = new Database(path.join(dataDir, 'wxengine.db'), { readonly: true, fileMustExist: true })
    try {
      await until('the slow message to be running', () => db.prepare("SELECT 1 FROM kv WHERE namespace = 'plugin:counter'").get(), 10_000)
    } finally {
      db.close()
    }
    engine.child.kill('SIGTERM')
    const answer = await inFlight
    assert.equal(answer.status, 200)
    assert.match(String(contentOf(answer.body)), /^run 1/)
    assert.equal(await engine.exited, 0)
    await assert.rejects(fetch(`${engine.url}/healthz`), 'no longer accepting')
    const store = openSqliteStore({ file: path.join(dataDir, 'wxengine.db'), log: createLogger({ level: 'silent' }) })
    const entries = await store.log.query({ openId: 'term-user' })
    assert.equal(entries.length, 1)
    assert.equal(entries[0].outcome, 'replied')
    await store.close()
    assert.match(engine.output(), /shutting down/)
  })

  it('SIGTERM under load, a plugin in an endless loop: exits 0 within TimeoutStopSec, every answered message logged, no plugin process left', { timeout: 90_000 }, async () => {
    // The graceful stop measured only without load before (an operator's question: does a hung plugin under
    // traffic keep systemd waiting until it kills the engine?). The docs give 16 s as the worst case.
    const sources = mkdtempSync(path.join(os.tmpdir(), 'wxengine-spinner-'))
    projects.push(sources)
    mkdirSync(path.join(sources, 'plugins', 'spinner'), { recursive: true })
    mkdirSync(path.join(sources, 'rules'))
    writeFileSync(path.join(sources, 'plugins', 'spinner', 'index.ts'), `import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: 'spinner', handle() { for (;;) {} } })\n`)
    writeFileSync(path.join(sources, 'rules', 'main.yaml'), 'rules:\n  - { name: spin, keywords: [spin], plugin: spinner }\ndefault: { reply: { type: text, content: hello } }\n')
    const project = makeProject({ accounts: [account], limits: { pluginIsolation: 'process' } }, { plugins: path.join(sources, 'plugins'), rules: path.join(sources, 'rules') })
    projects.push(project)
    const dataDir = path.join(project, 'data')
    const engine = await spawnEngine(project, { DATA_DIR: dataDir })
    const answered: string[] = []
    const statuses = new Map<string, number>()
    let spinsAnswered = 0
    let stop = false
    const sender = async (user: string, text: (i: number) => string) => {
      for (let i = 0; !stop; i++) {
        const fields = push.text(user, text(i))
        let r: { status: number; body: string }
        try {
          r = await send(engine.url, fields)
        } catch {
          return // refused once the engine stopped listening
        }
        statuses.set(`${r.status}`, (statuses.get(`${r.status}`) ?? 0) + 1)
        if (r.status !== 200) continue
        if (fields.Content === 'spin') spinsAnswered += 1
        else if (contentOf(r.body) === 'hello') answered.push(String(fields.MsgId))
      }
    }
    const senders = [
      ...Array.from({ length: 16 }, (_, n) => sender(`steady-${n}`, (i) => `hi ${n}-${i}`)),
      ...Array.from({ length: 4 }, (_, n) => sender(`spinning-${n}`, () => 'spin')),
    ]
    await until('answers under load, a spin answered at the budget', () => answered.length >= 200 && spinsAnswered >= 1, 30_000)
    assert.ok(engine.child.pid, 'the engine has a pid')
    const plugins = pluginProcesses(engine.child.pid)
    assert.ok(plugins.length > 0, 'the spinner runs in a process of its own')
    const signalled = Date.now()
    engine.child.kill('SIGTERM')
    assert.equal(await engine.exited, 0)
    const took = Date.now() - signalled
    stop = true
    await Promise.all(senders)
    // deployment.md's unit gives TimeoutStopSec=20: systemd would have killed it past that.
    assert.ok(took < 20_000, `stopped in ${took} ms`)
    assert.deepEqual([...statuses.keys()], ['200'], 'every request taken was answered 200')
    const missing = await missingFromLog(path.join(dataDir, 'wxengine.db'), answered)
    assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered messages missing from the log`)
    const alive = plugins.filter((pid) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    })
    assert.deepEqual(alive, [], 'no plugin process outlives the engine')
    assert.match(engine.output(), /"msg":"stopped"/)
  })
})
