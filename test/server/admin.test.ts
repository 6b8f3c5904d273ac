/**
 * /healthz and /metrics (core/server/admin-routes.ts, core/server/metrics.ts) over real HTTP: what they
 * answer, that the counters move when messages flow, and the three ways to keep them private
 * (a bearer token, their own port on 127.0.0.1, or off).
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { FAKE_PATHS, startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures')

const ACCOUNT: AccountConfig = { id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', appSecret: 'plainsecret', mode: 'plaintext' }

const RULES = `
rules:
  - name: hello
    keywords: [hello]
    reply: { type: text, content: hi }
  - name: paper
    keywords: [paper]
    reply: { type: news, articles: [{ title: Today, url: 'https://example.com/today' }] }
  - name: boom
    keywords: [boom]
    plugin: thrower
  # Slower than the reply budget (300 ms), faster than the plugin timeout (1500 ms): a late reply.
  - name: nap
    keywords: [nap]
    plugin: sleeper
    args: { ms: 800 }
  # Slower than the plugin timeout: the worker is stopped, PLUGIN_TIMEOUT.
  - name: coma
    keywords: [coma]
    plugin: sleeper
    args: { ms: 60000 }
`

type Labels = Record<string, string>
interface Sample {
  name: string
  labels: Labels
  value: number
}

/** Prometheus text format, samples only: `name{a="x",b="y"} 1`. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line)
    if (!m) continue
    const labels: Labels = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2]
    samples.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return samples
}

/** Sum of the samples of `name` whose labels include `labels` (0 when a labelled counter was never touched). */
function valueOf(samples: Sample[], name: string, labels: Labels = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { headers })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

describe('/healthz and /metrics on the public port', () => {
  let h: Harness
  let fake: FakeWeChatApi
  let pluginsDir: string

  before(async () => {
    fake = await startFakeWeChatApi({ appId: ACCOUNT.appId, appSecret: ACCOUNT.appSecret })
    pluginsDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-admin-plugins-'))
    cpSync(path.join(FIXTURES, 'engine-plugins/sleeper'), path.join(pluginsDir, 'sleeper'), { recursive: true })
    cpSync(path.join(FIXTURES, 'admin-plugins/thrower'), path.join(pluginsDir, 'thrower'), { recursive: true })
    h = await startHarness({
      rules: { 'metrics.yaml': RULES },
      plugins: pluginsDir,
      accounts: [ACCOUNT],
      config: {
        platform: { apiBase: fake.baseUrl },
        limits: { replyBudgetMs: 300, maxBodyBytes: 16 * 1024 },
        plugins: { sleeper: { timeoutMs: 1500 } },
      },
    })
  })
  after(async () => {
    await h.close()
    await fake.close()
    rmSync(pluginsDir, { recursive: true, force: true })
  })

  const metrics = async () => {
    const res = await get(`${h.url}/metrics`)
    assert.equal(res.status, 200)
    return parseMetrics(res.body)
  }
  /** Runs `act` and returns how much each asked-for series moved. */
  const delta = async (act: () => Promise<unknown>) => {
    const before = await metrics()
    await act()
    const after = await metrics()
    return (name: string, labels?: Labels) => valueOf(after, name, labels) - valueOf(before, name, labels)
  }

  test('/healthz: 200 with the store, rules, plugins and accounts', async () => {
    const res = await get(`${h.url}/healthz`)
    assert.equal(res.status, 200)
    assert.match(res.type, /^application\/json/)
    const body = JSON.parse(res.body) as Record<string, unknown>
    assert.equal(body.status, 'ok')
    assert.deepEqual(body.store, { kind: 'sqlite', healthy: true, writes: { writable: true } })
    assert.deepEqual(body.messageLog, { writable: true, backlog: 0, dropped: 0 })
    assert.deepEqual(body.rules, { textRules: 5, keywords: 5, typeHandlers: 0 })
    assert.deepEqual([...(body.plugins as string[])].sort(), ['sleeper', 'thrower'])
    assert.deepEqual(body.accounts, ['plain'])
    assert.equal(typeof body.generation, 'number')
  })

  test('/metrics: Prometheus text format with every engine series declared', async () => {
    const res = await get(`${h.url}/metrics`)
    assert.equal(res.status, 200)
    assert.match(res.type, /^text\/plain; version=0\.0\.4/)
    for (const [name, type] of [
      ['wxengine_requests_total', 'counter'],
      ['wxengine_messages_total', 'counter'],
      ['wxengine_replies_total', 'counter'],
      ['wxengine_rule_hits_total', 'counter'],
      ['wxengine_plugin_errors_total', 'counter'],
      ['wxengine_dedup_hits_total', 'counter'],
      ['wxengine_late_replies_total', 'counter'],
      ['wxengine_reply_budget_spent_total', 'counter'],
      ['wxengine_message_latency_seconds', 'histogram'],
      ['wxengine_reloads_total', 'counter'],
      ['wxengine_media_unavailable_total', 'counter'],
      ['wxengine_media_upload_failures_total', 'counter'],
    ]) {
      assert.match(res.body, new RegExp(`^# HELP ${name} .+$`, 'm'))
      assert.match(res.body, new RegExp(`^# TYPE ${name} ${type}$`, 'm'))
    }
    // Node's process metrics come with the engine's prefix, so they never clash with another exporter's.
    const samples = parseMetrics(res.body)
    assert.ok(valueOf(samples, 'wxengine_process_resident_memory_bytes') > 0)
    assert.ok(valueOf(samples, 'wxengine_nodejs_heap_size_used_bytes') > 0)
  })

  test('an answered message: accepted, a reply by type, a rule hit and a latency sample', async () => {
    const d = await delta(async () => {
      assert.equal((await h.post('plain', push.text('m-user', 'hello'))).reply?.Content, 'hi')
      assert.equal((await h.post('plain', push.text('m-user', 'paper'))).reply?.MsgType, 'news')
    })
    assert.equal(d('wxengine_requests_total', { outcome: 'accepted' }), 2)
    assert.equal(d('wxengine_replies_total', { type: 'text' }), 1)
    assert.equal(d('wxengine_replies_total', { type: 'news' }), 1)
    assert.equal(d('wxengine_rule_hits_total', { account: 'plain', rule: 'hello' }), 1)
    assert.equal(d('wxengine_rule_hits_total', { account: 'plain', rule: 'paper' }), 1)
    assert.equal(d('wxengine_messages_total', { account: 'plain', kind: 'text', handled_by: 'rule', outcome: 'replied' }), 2)
    assert.equal(d('wxengine_message_latency_seconds_count', { handled_by: 'rule' }), 2)
    assert.ok(d('wxengine_message_latency_seconds_sum', { handled_by: 'rule' }) > 0)
    assert.equal(d('wxengine_reply_budget_spent_total'), 0)
  })

  test('refused requests count as rejected, by code', async () => {
    const d = await delta(async () => {
      const req = h.sim('plain').request(push.text('m-user', 'hello'))
      const forged = new URLSearchParams({ ...req.query, signature: '0'.repeat(40) })
      const bad = await fetch(`${h.url}/wechat/plain?${forged}`, { method: 'POST', body: req.body })
      assert.equal(bad.status, 401)
      await bad.text()
      const unknown = await fetch(`${h.url}/wechat/nobody?${req.search}`, { method: 'POST', body: req.body })
      assert.equal(unknown.status, 404)
      await unknown.text()
      // Refused by the server before the engine sees it, and still counted.
      const huge = await fetch(`${h.url}/wechat/plain?${req.search}`, { method: 'POST', body: 'x'.repeat(h.runtime.config.limits.maxBodyBytes + 1) })
      assert.equal(huge.status, 413)
      await huge.text()
    })
    assert.equal(d('wxengine_requests_total', { outcome: 'rejected', code: 'BAD_SIGNATURE' }), 1)
    assert.equal(d('wxengine_requests_total', { outcome: 'rejected', code: 'UNKNOWN_ACCOUNT' }), 1)
    assert.equal(d('wxengine_requests_total', { outcome: 'rejected', code: 'BODY_TOO_LARGE' }), 1)
    assert.equal(d('wxengine_requests_total', { outcome: 'accepted' }), 0)
  })

  test('a retried message is a duplicate and a dedup hit, answered once', async () => {
    const fields = push.text('dup-user', 'hello')
    const d = await delta(async () => {
      const first = await h.post('plain', fields)
      const retry = await h.post('plain', fields)
      assert.equal(retry.body, first.body)
    })
    assert.equal(d('wxengine_requests_total', { outcome: 'accepted' }), 1)
    assert.equal(d('wxengine_requests_total', { outcome: 'duplicate' }), 1)
    assert.equal(d('wxengine_dedup_hits_total', { account: 'plain' }), 1)
    assert.equal(d('wxengine_rule_hits_total', { rule: 'hello' }), 1)
  })

  test('a plugin that throws counts as a plugin error', async () => {
    const d = await delta(async () => {
      assert.equal((await h.post('plain', push.text('m-user', 'boom'))).body, 'success')
    })
    assert.equal(d('wxengine_plugin_errors_total', { plugin: 'thrower', code: 'PLUGIN_ERROR' }), 1)
    assert.equal(d('wxengine_messages_total', { outcome: 'failed' }), 1)
  })

  test('a reply after the budget is a late reply, sent through the API', async () => {
    const d = await delta(async () => {
      assert.equal((await h.post('plain', push.text('late-user', 'nap'))).body, 'success')
      await h.runtime.engine.idle()
      await h.runtime.platform.idle()
    })
    assert.equal(d('wxengine_late_replies_total', { account: 'plain', type: 'text', outcome: 'sent' }), 1)
    assert.equal(d('wxengine_late_replies_total', { outcome: 'failed' }), 0)
    assert.equal(d('wxengine_messages_total', { outcome: 'late' }), 1)
    assert.equal(d('wxengine_reply_budget_spent_total', { account: 'plain', plugin: 'sleeper' }), 1)
    // The message log: a row when `success` went out (no rule yet: nothing answered), then the reply's,
    // which counts as the rule's hit, once.
    await h.runtime.store.log.flush()
    const rows = await h.runtime.store.log.query({ openId: 'late-user' })
    assert.deepEqual(rows.map((e) => [e.outcome, e.rule, e.plugin, e.replyType]).reverse(), [['late', undefined, 'sleeper', undefined], ['late', 'nap', 'sleeper', 'text']])
    // A late answer is not a passive answer: it stays out of the latency histogram.
    assert.equal(d('wxengine_message_latency_seconds_count'), 0)
    assert.deepEqual(fake.sent.at(-1)?.body, { touser: 'late-user', msgtype: 'text', text: { content: 'slept 800 ms' } })
  })

  test('a late reply the platform refuses for good counts as failed, not as sent', async () => {
    fake.setUserError('gone-user', 43004) // unsubscribed: final at once
    try {
      const d = await delta(async () => {
        assert.equal((await h.post('plain', push.text('gone-user', 'nap'))).body, 'success')
        await h.runtime.engine.idle()
        await h.runtime.platform.idle()
      })
      assert.equal(d('wxengine_late_replies_total', { account: 'plain', type: 'text', outcome: 'failed' }), 1)
      assert.equal(d('wxengine_late_replies_total', { outcome: 'sent' }), 0)
    } finally {
      fake.setUserError('gone-user', null)
    }
  })

  test('a plugin past its timeout counts as a plugin error with PLUGIN_TIMEOUT', async () => {
    const d = await delta(async () => {
      assert.equal((await h.post('plain', push.text('m-user', 'coma'))).body, 'success')
      await h.runtime.engine.idle()
    })
    assert.equal(d('wxengine_plugin_errors_total', { plugin: 'sleeper', code: 'PLUGIN_TIMEOUT' }), 1)
    assert.equal(d('wxengine_late_replies_total'), 0)
    // Past the budget all the same: counted there, though no reply went out late (messages_total says `failed`).
    assert.equal(d('wxengine_reply_budget_spent_total', { account: 'plain', plugin: 'sleeper' }), 1)
    // Its timeout came after the reply budget (300 ms): still a failed message, not one with no reply.
    assert.equal(d('wxengine_messages_total', { outcome: 'failed' }), 1)
    assert.equal(d('wxengine_messages_total', { outcome: 'no_reply' }), 0)
    // Nothing answered: no hit for its rule, in the log's counts as in the metrics.
    assert.equal(d('wxengine_rule_hits_total', { rule: 'coma' }), 0)
    await h.runtime.store.log.flush()
    assert.equal((await h.runtime.store.log.hits('plain')).find((x) => x.rule === 'coma'), undefined)
    const rows = await h.runtime.store.log.query({ openId: 'm-user' })
    assert.deepEqual(rows.filter((e) => e.summary === 'coma').map((e) => [e.outcome, e.rule, e.plugin]).reverse(), [['late', undefined, 'sleeper'], ['failed', undefined, undefined]])
  })
})

describe('/metrics: media files without a media_id', () => {
  test('a refused upload counts as an upload failure, and each message its rule could not answer as media unavailable, by account and rule', async () => {
    const fake = await startFakeWeChatApi({ appId: ACCOUNT.appId, appSecret: ACCOUNT.appSecret })
    fake.failNext(FAKE_PATHS.addMaterial, 1, 45009)
    const h = await startHarness({
      rules: {
        'media.yaml': 'rules:\n  - name: group\n    keywords: [group]\n    reply: {type: image, file: qr.png}\n  - name: qun\n    keywords: [qun]\n    reply: {type: image, file: qr.png}\n  - name: hello\n    keywords: [hello]\n    reply: {type: text, content: hi}\n',
        'qr.png': 'not really a png: the fake reads only the name',
      },
      accounts: [ACCOUNT],
      config: { platform: { apiBase: fake.baseUrl } },
    })
    try {
      const scrape = async () => parseMetrics((await get(`${h.url}/metrics`)).body)
      // One file for two rules: one upload, one failure.
      assert.equal(valueOf(await scrape(), 'wxengine_media_upload_failures_total', { account: 'plain' }), 1)
      const before = await scrape()
      for (const text of ['group', 'group', 'qun', 'hello']) await h.post('plain', push.text('media-user', text))
      const after = await scrape()
      const d = (labels: Labels) => valueOf(after, 'wxengine_media_unavailable_total', labels) - valueOf(before, 'wxengine_media_unavailable_total', labels)
      assert.equal(d({ account: 'plain', rule: 'group' }), 2)
      assert.equal(d({ account: 'plain', rule: 'qun' }), 1)
      assert.equal(d({}), 3, 'an answered text is not counted')
      assert.equal(valueOf(after, 'wxengine_media_upload_failures_total'), 1, 'a message does not upload')
    } finally {
      await h.close()
      await fake.close()
    }
  })
})

describe('/metrics: media files without a media_id, now', () => {
  test('wxengine_media_files_missing counts the files the live rules have no media_id for, by account, and is back to 0 once an upload succeeds', async () => {
    const fake = await startFakeWeChatApi({ appId: ACCOUNT.appId, appSecret: ACCOUNT.appSecret })
    fake.failNext(FAKE_PATHS.addMaterial, 1, 45009)
    const h = await startHarness({
      rules: {
        'media.yaml': 'rules:\n  - name: group\n    keywords: [group]\n    reply: {type: image, file: qr.png}\n  - name: qun\n    keywords: [qun]\n    reply: {type: image, file: qr.png}\n',
        'qr.png': 'not really a png: the fake reads only the name',
      },
      accounts: [ACCOUNT],
      config: { platform: { apiBase: fake.baseUrl } },
    })
    try {
      const missing = async () => valueOf(parseMetrics((await get(`${h.url}/metrics`)).body), 'wxengine_media_files_missing', { account: 'plain' })
      // One file for two rules: one file missing (the retry is a minute away).
      assert.equal(await missing(), 1)
      assert.equal(await missing(), 1, 'a scrape changes nothing')
      // A reload uploads it (the platform answers now) and goes live: nothing missing, and the gauge says so.
      assert.equal(await h.runtime.reload(), true)
      assert.equal(fake.uploads.length, 1)
      assert.equal(await missing(), 0)
      const r = await h.post('plain', push.text('media-user', 'group'))
      assert.equal(r.reply?.MsgType, 'image')
    } finally {
      await h.close()
      await fake.close()
    }
  })
})

describe('/healthz when the store is down', () => {
  test('answers 503 with the store unhealthy', async () => {
    const h = await startHarness({ accounts: [ACCOUNT] })
    try {
      assert.equal((await get(`${h.url}/healthz`)).status, 200)
      // A closed SQLite store reports itself unhealthy, as one whose disk went away would.
      await h.runtime.store.close()
      const res = await get(`${h.url}/healthz`)
      assert.equal(res.status, 503)
      const body = JSON.parse(res.body) as Record<string, unknown>
      assert.equal(body.status, 'degraded')
      assert.deepEqual(body.store, { kind: 'sqlite', healthy: false, writes: { writable: true } })
    } finally {
      await h.close()
    }
  })

  test('the database file removed while the engine runs: 503, and one error line saying to restart', async () => {
    const h = await startHarness({ accounts: [ACCOUNT] })
    try {
      assert.equal((await get(`${h.url}/healthz`)).status, 200)
      // What is written now goes to an inode no later start opens: the engine is not healthy any more.
      rmSync(path.join(h.dir, 'data', 'wxengine.db'))
      for (let i = 0; i < 2; i++) {
        const res = await get(`${h.url}/healthz`)
        assert.equal(res.status, 503)
        assert.equal((JSON.parse(res.body) as { store: { healthy: boolean } }).store.healthy, false)
      }
      const lines = h.lines.filter((l) => l.msg === 'database file gone: what is written now is lost at the next start; restart the engine')
      assert.equal(lines.length, 1)
      assert.match(String(lines[0]!.reason), /wxengine\.db was removed or replaced while the engine runs/)
    } finally {
      await h.close()
    }
  })
})

describe('/healthz when state cannot be written', () => {
  test('a refused session write: degraded (200) with since when and why; ok again after a write succeeds', async () => {
    const h = await startHarness({ accounts: [ACCOUNT] })
    // A second connection makes session writes fail as a full disk would (SQLite raises the error).
    const other = new Database(path.join(h.dir, 'data', 'wxengine.db'))
    try {
      other.exec("CREATE TRIGGER refuse BEFORE INSERT ON sessions BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END")
      const session = { account: 'plain', openId: 'u-full', plugin: 'sleeper', state: null, expiresAt: Date.now() + 60_000 }
      await assert.rejects(h.runtime.store.sessions.put(session), /database or disk is full/)
      const res = await get(`${h.url}/healthz`)
      assert.equal(res.status, 200)
      const body = JSON.parse(res.body) as { status: string; store: { writes: { writable: boolean; failing?: { since: number; reason: string } } } }
      assert.equal(body.status, 'degraded')
      assert.equal(body.store.writes.writable, false)
      assert.match(body.store.writes.failing?.reason ?? '', /database or disk is full/)
      assert.ok(Math.abs(Date.now() - (body.store.writes.failing?.since ?? 0)) < 60_000)
      // Writes that change nothing succeed on a full disk too, and prove nothing: the failure stays.
      await h.runtime.store.sessions.delete('plain', 'nobody-here')
      await h.runtime.store.kv.delete('ns', 'no-such-key')
      assert.equal(h.runtime.store.writes?.().writable, false)
      other.exec('DROP TRIGGER refuse')
      await h.runtime.store.sessions.put(session)
      const again = JSON.parse((await get(`${h.url}/healthz`)).body) as { status: string; store: unknown }
      assert.equal(again.status, 'ok')
      assert.deepEqual(again.store, { kind: 'sqlite', healthy: true, writes: { writable: true } })
    } finally {
      other.close()
      await h.close()
    }
  })
})

describe('/healthz when the message log cannot be written', () => {
  test('degraded (still 200: replies go out), with the backlog and the reason; ok again once written', async () => {
    const h = await startHarness({ accounts: [ACCOUNT], rules: { 'r.yaml': 'rules:\n  - name: hi\n    keywords: [hello]\n    reply: { type: text, content: hi }\n' } })
    try {
      // A file where the journal directory goes, as a full or read-only disk refuses the journal.
      const journalDir = path.join(h.dir, 'data', 'wxengine.db-msglog')
      rmSync(journalDir, { recursive: true, force: true })
      writeFileSync(journalDir, '')
      assert.equal((await h.post('plain', push.text('u1', 'hello'))).reply?.Content, 'hi')
      const res = await get(`${h.url}/healthz`)
      assert.equal(res.status, 200)
      const body = JSON.parse(res.body) as { status: string; messageLog: { writable: boolean; backlog: number; failing?: { since: number; reason: string } } }
      assert.equal(body.status, 'degraded')
      assert.equal(body.messageLog.writable, false)
      assert.equal(body.messageLog.backlog, 1)
      assert.match(body.messageLog.failing?.reason ?? '', /ENOTDIR|EEXIST/)
      assert.ok(Math.abs(Date.now() - (body.messageLog.failing?.since ?? 0)) < 60_000)
      // The disk is back: the next write after the retry pause takes the backlog.
      rmSync(journalDir)
      await new Promise((r) => setTimeout(r, 1100))
      assert.equal((await h.post('plain', push.text('u2', 'hello'))).reply?.Content, 'hi')
      const again = JSON.parse((await get(`${h.url}/healthz`)).body) as Record<string, unknown>
      assert.equal(again.status, 'ok')
      assert.deepEqual(again.messageLog, { writable: true, backlog: 0, dropped: 0 })
    } finally {
      await h.close()
    }
  })
})

describe('keeping the admin endpoints private', () => {
  test('admin.token: 401 without the bearer token or with a wrong one, 200 with it; /wechat needs none', async () => {
    const h = await startHarness({ accounts: [ACCOUNT], config: { admin: { token: 's3cret-token' } } })
    try {
      for (const p of ['/healthz', '/metrics']) {
        assert.equal((await get(`${h.url}${p}`)).status, 401, `${p} without a token`)
        assert.equal((await get(`${h.url}${p}`, { authorization: 'Bearer wrong' })).status, 401, `${p} with a wrong token`)
        assert.equal((await get(`${h.url}${p}`, { authorization: 's3cret-token' })).status, 401, `${p} without "Bearer "`)
        assert.equal((await get(`${h.url}${p}`, { authorization: 'Bearer s3cret-token' })).status, 200, `${p} with the token`)
        // The scheme is case-insensitive (RFC 9110); the token is not.
        assert.equal((await get(`${h.url}${p}`, { authorization: 'bearer s3cret-token' })).status, 200, `${p} with "bearer"`)
        assert.equal((await get(`${h.url}${p}`, { authorization: 'Bearer S3CRET-TOKEN' })).status, 401, `${p} with the token in other case`)
      }
      const answered = await h.post('plain', push.text('u1', 'hello'))
      assert.equal(answered.status, 200)
      // Each refusal left a line saying why (8 here, within the per-kind budget).
      const refused = h.lines.filter((l) => l.code === 'UNAUTHORIZED')
      assert.equal(refused.length, 8)
      assert.equal(refused.filter((l) => l.reason === 'no bearer token (Authorization: Bearer <ADMIN_TOKEN>)').length, 4)
      assert.equal(refused.filter((l) => l.reason === 'the bearer token is not the admin token').length, 4)
      assert.ok(refused.every((l) => l.status === 401 && typeof l.from === 'string' && (l.path === '/healthz' || l.path === '/metrics')), JSON.stringify(refused))
    } finally {
      await h.close()
    }
  })

  test('other methods: 401 first, then 405 with Allow on the admin paths, a quiet 404 elsewhere; never 501 (a WebDAV scanner had fired 5xx alerts)', async () => {
    const send = async (url: string, method: string, token?: string) => {
      const res = await fetch(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} })
      await res.text()
      return { status: res.status, allow: res.headers.get('allow') }
    }
    // On the public port (shared), and on their own.
    for (const admin of [{ token: 's3cret-token' }, { token: 's3cret-token', port: 0 }]) {
      const h = await startHarness({ accounts: [ACCOUNT], config: { admin } })
      try {
        const base = h.runtime.adminUrl!
        for (const method of ['PROPFIND', 'MKCOL', 'OPTIONS', 'POST', 'DELETE']) {
          for (const p of ['/metrics', '/healthz']) {
            assert.equal((await send(`${base}${p}`, method)).status, 401, `${method} ${p} without the token`)
            assert.deepEqual(await send(`${base}${p}`, method, 's3cret-token'), { status: 405, allow: 'GET, HEAD' }, `${method} ${p}`)
          }
          assert.equal((await send(`${base}/nothing`, method)).status, 404, `${method} /nothing`)
        }
        assert.equal((await send(`${h.url}/wechat/plain`, 'PROPFIND')).status, 405, 'the WeChat path says its own 405')
        assert.equal((await get(`${base}/metrics`, { authorization: 'Bearer s3cret-token' })).status, 200)
      } finally {
        await h.close()
      }
    }
  })

  test("the 401's line names who asked: behind a trusted proxy the address it saw, and the connection as `via`", async () => {
    const h = await startHarness({ accounts: [ACCOUNT], config: { admin: { token: 's3cret-token' }, trustProxy: true } })
    try {
      assert.equal((await get(`${h.url}/metrics`, { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' })).status, 401)
      assert.equal((await get(`${h.url}/healthz`)).status, 401)
      const [proxied, direct] = h.lines.filter((l) => l.code === 'UNAUTHORIZED')
      assert.equal(proxied?.from, '203.0.113.9')
      assert.equal(proxied?.via, '127.0.0.1')
      // Straight to the engine (a monitor on the host): no header, the connection alone.
      assert.equal(direct?.from, '127.0.0.1')
      assert.equal(direct?.via, undefined)
    } finally {
      await h.close()
    }
  })

  test('on its own port, nothing is in front of the admin routes: a proxy header is not read there', async () => {
    const h = await startHarness({ accounts: [ACCOUNT], config: { admin: { token: 's3cret-token', port: 0 }, trustProxy: true } })
    try {
      assert.equal((await get(`${h.runtime.adminUrl!}/metrics`, { 'x-forwarded-for': '203.0.113.9' })).status, 401)
      const line = h.lines.find((l) => l.code === 'UNAUTHORIZED')
      assert.equal(line?.from, '127.0.0.1')
      assert.equal(line?.via, undefined)
    } finally {
      await h.close()
    }
  })

  test('admin.port: served on their own port on 127.0.0.1, not on the public one', async () => {
    const h = await startHarness({ accounts: [ACCOUNT], config: { admin: { port: 0 } } })
    try {
      const adminUrl = h.runtime.adminUrl!
      assert.notEqual(adminUrl, h.url)
      assert.match(adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal((await get(`${h.url}/metrics`)).status, 404)
      assert.equal((await get(`${h.url}/healthz`)).status, 404)
      assert.equal((await get(`${adminUrl}/healthz`)).status, 200)
      const m = await get(`${adminUrl}/metrics`)
      assert.equal(m.status, 200)
      assert.match(m.body, /^# TYPE wxengine_requests_total counter$/m)
      // And the admin port is not a second door to the WeChat endpoint.
      const req = h.sim('plain').request(push.text('u1', 'hello'))
      const res = await fetch(`${adminUrl}/wechat/plain?${req.search}`, { method: 'POST', body: req.body })
      assert.equal(res.status, 404)
      await res.text()
    } finally {
      await h.close()
    }
  })

  test('admin.enabled false: 404, and WeChat is still served', async () => {
    const h = await startHarness({ accounts: [ACCOUNT], config: { admin: { enabled: false } } })
    try {
      assert.equal(h.runtime.adminUrl, undefined)
      assert.equal((await get(`${h.url}/healthz`)).status, 404)
      assert.equal((await get(`${h.url}/metrics`)).status, 404)
      assert.equal((await h.post('plain', push.text('u1', 'hello'))).status, 200)
    } finally {
      await h.close()
    }
  })
})
