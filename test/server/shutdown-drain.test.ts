/**
 * Shutting down under keep-alive traffic (nginx's upstream pool keeps its connections open): the engine
 * finishes what it took, tells each connection not to send more (`Connection: close`) and closes it, rather
 * than taking new messages on open connections until the grace ends and then resetting them (an operator's
 * review: 5,000 messages taken in the 5.5 s after SIGTERM, 13 answered into a reset socket).
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'

const pluginsDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-drain-plugins-'))
cpSync(path.join(import.meta.dirname, '../fixtures/plugins/slow'), path.join(pluginsDir, 'slow'), { recursive: true })
after(() => rmSync(pluginsDir, { recursive: true, force: true }))

const RULES = {
  'main.yaml': "rules:\n  - name: slow\n    keywords: [{ regex: '^\\d+$' }]\n    plugin: slow\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: hi }\n",
}

interface Answer {
  status: number
  connection: string | undefined
  body: string
  socketId: number
}

test('on shutdown, keep-alive connections are answered with Connection: close and closed; nothing taken is reset', { timeout: 30_000 }, async () => {
  const h = await startHarness({ rules: RULES, plugins: pluginsDir, config: { limits: { replyBudgetMs: 4_000 } } })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 })
  const sockets = new Map<object, number>()
  const post = (content: string, user: string) =>
    new Promise<Answer>((resolve, reject) => {
      const r = h.sim('plain').request(push.text(user, content))
      const req = http.request(`${h.url}/wechat/plain?${r.search}`, { method: 'POST', agent, headers: { 'content-type': 'text/xml' } }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body, socketId: sockets.get(req.socket!)! }))
      })
      req.on('socket', (s) => sockets.has(s) || sockets.set(s, sockets.size + 1))
      req.on('error', reject)
      req.end(r.body)
    })
  try {
    // Two connections open: one carries a slow message across the shutdown, the other is idle.
    const warm = await Promise.all([post('hello', 'u-warm-1'), post('hello', 'u-warm-2')])
    assert.deepEqual(warm.map((a) => a.connection), ['keep-alive', 'keep-alive'])
    const slow = post('1500', 'u-slow')
    await new Promise((r) => setTimeout(r, 300))
    const serverClosed = new Promise<number>((resolve) => h.runtime.server!.once('close', () => resolve(Date.now())))
    const closing = h.runtime.close()
    const slowAnswer = await slow
    // Taken before the shutdown, answered in full.
    assert.equal(slowAnswer.status, 200)
    assert.match(slowAnswer.body, /done after 1500/)
    const answeredAt = Date.now()
    // Every connection closed as soon as it was idle, not cut at the end of the grace (5 s after close
    // began, 3.8 s after this answer): the server closes when its last connection has.
    const tookMs = (await serverClosed) - answeredAt
    assert.ok(tookMs < 1_000, `the server closed ${tookMs} ms after the last answer`)
    await closing
  } finally {
    agent.destroy()
    await h.close()
  }
})

test('a request arriving on an open connection during the drain is answered, with Connection: close', { timeout: 30_000 }, async () => {
  const h = await startHarness({ rules: RULES, plugins: pluginsDir, config: { limits: { replyBudgetMs: 4_000 } } })
  const net = await import('node:net')
  try {
    const u = new URL(h.url)
    const socket = net.connect(Number(u.port), u.hostname)
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => (data += d))
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    const raw = (content: string, user: string) => {
      const r = h.sim('plain').request(push.text(user, content))
      socket.write(`POST /wechat/plain?${r.search} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(r.body)}\r\n\r\n${r.body}`)
    }
    // A slow message in progress on this connection, the shutdown begins, then one more message is sent on it.
    raw('800', 'u-raw-slow')
    await new Promise((r) => setTimeout(r, 200))
    const closing = h.runtime.close()
    await new Promise((r) => setTimeout(r, 100))
    raw('hello', 'u-raw-after')
    await closed
    await closing
    const answers = data.split(/(?=HTTP\/1\.1 )/)
    assert.equal(answers.length, 2, data)
    assert.match(answers[0], /^HTTP\/1\.1 200 [\s\S]*done after 800/)
    // The second was queued behind the first on the connection; it is answered and the connection closed.
    assert.match(answers[1], /^HTTP\/1\.1 200 [\s\S]*Connection: close[\s\S]*<Content><!\[CDATA\[hi\]\]><\/Content>/i)
  } finally {
    await h.close()
  }
})
