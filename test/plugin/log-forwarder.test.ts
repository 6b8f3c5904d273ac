/**
 * The worker side of a plugin's ctx.log (core/plugin/sandbox/log-forwarder.ts): what crosses to the main
 * thread, at what rate, at what size. Through a real engine: test/e2e/plugin-floods.test.ts.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogForwarder, LINE_BURST, LINES_PER_SECOND, MAX_DATA_CHARS, MAX_MESSAGE_CHARS } from '../../core/plugin/sandbox/log-forwarder.ts'
import type { WorkerToMain } from '../../core/plugin/worker-protocol.ts'
import path from 'node:path'
import { pluginProject } from '../support/plugin-project.ts'
import { loadPlugins, text, textOf } from './plugin-test-kit.ts'

type LogMessage = Extract<WorkerToMain, { t: 'log' }>

function forwarder(level: string) {
  const posted: LogMessage[] = []
  let t = 1_000_000
  const log = createLogForwarder((m) => posted.push(m as LogMessage), level, () => t)
  return { log, posted, advance: (ms: number) => void (t += ms) }
}

test('lines below the engine level are not sent at all', () => {
  const { log, posted } = forwarder('warn')
  log.debug('d')
  log.info('i')
  log.warn('w')
  log.error('e')
  assert.deepEqual(posted.map((m) => `${m.level}:${m.msg}`), ['warn:w', 'error:e'])
})

test(`a burst of ${LINE_BURST} lines goes through, then ${LINES_PER_SECOND} a second; the rest are counted and reported once`, async () => {
  const { log, posted, advance } = forwarder('info')
  for (let i = 0; i < LINE_BURST + 500; i++) log.info(`line ${i}`)
  assert.equal(posted.length, LINE_BURST)
  advance(1000)
  for (let i = 0; i < 1000; i++) log.info(`later ${i}`)
  assert.equal(posted.length, LINE_BURST + LINES_PER_SECOND)
  // The count goes out within a second of the first drop, even if the plugin falls silent.
  await new Promise((r) => setTimeout(r, 1100))
  const report = posted.at(-1)!
  assert.equal(report.level, 'warn')
  assert.deepEqual(report.data, { dropped: 500 + 1000 - LINES_PER_SECOND })
  assert.match(report.msg, /log lines dropped: a plugin may log at most 100 lines a second/)
})

test('long messages are cut, and data too big to send is replaced by its size', () => {
  const { log, posted } = forwarder('info')
  log.info('m'.repeat(MAX_MESSAGE_CHARS + 10))
  log.info('big', { blob: 'b'.repeat(MAX_DATA_CHARS) })
  log.info('small', { n: 1, nested: { ok: true } })
  assert.equal(posted[0].msg.length < MAX_MESSAGE_CHARS + 40, true)
  assert.match(posted[0].msg, /… \(4106 characters\)$/)
  assert.match(String(posted[1].data?.truncated), /characters of data, over 16384/)
  assert.deepEqual(posted[2].data, { n: 1, nested: { ok: true } })
})

test("about(): every line carries the fields, added after the plugin's data is copied (a getter that throws cannot reach the plugin)", () => {
  const { log, posted } = forwarder('info')
  const aboutUser = log.about({ account: 'acct', openId: 'u1' })
  aboutUser.info('plain')
  aboutUser.info('with data', { n: 1, openId: 'mine' })
  const hostile = {
    get boom(): never {
      throw new Error('getter')
    },
  }
  assert.doesNotThrow(() => aboutUser.warn('hostile', hostile))
  aboutUser.info('a string for data', 'hello' as unknown as Record<string, unknown>)
  log.info('not about anyone')
  assert.deepEqual(posted[0].data, { account: 'acct', openId: 'u1' })
  assert.deepEqual(posted[1].data, { account: 'acct', openId: 'mine', n: 1 }, "the plugin's own field wins")
  assert.equal(posted[2].data?.account, 'acct')
  assert.match(String(posted[2].data?.data), /boom/)
  assert.deepEqual(posted[3].data, { account: 'acct', openId: 'u1', data: 'hello' }, 'not spread into numbered fields')
  assert.equal(posted[4].data, undefined)
})

test("a caught error in data is sent as { type, message, stack } with its own fields, not as {} (an Error's name, message and stack are not enumerable)", () => {
  const { log, posted } = forwarder('info')
  const refused = Object.assign(new Error('POST /cgi-bin/message/custom/send: errcode 45015'), { name: 'PlatformApiError', code: 'API_ERROR', errcode: 45015 })
  log.error('lookup failed', { err: new TypeError('boom'), user: 'u1' })
  log.warn('send refused', { error: refused })
  // As a plugin writing plain JavaScript passes it: the error as the data itself.
  log.error('failed', new RangeError('bad') as unknown as Record<string, unknown>)
  const [lookup, send, bare] = posted.map((m) => m.data as Record<string, Record<string, unknown>>)
  assert.equal(lookup.user as unknown, 'u1')
  assert.equal(lookup.err.type, 'TypeError')
  assert.equal(lookup.err.message, 'boom')
  assert.match(String(lookup.err.stack), /^TypeError: boom\n\s+at /)
  assert.deepEqual({ ...send.error, stack: undefined }, { type: 'PlatformApiError', message: 'POST /cgi-bin/message/custom/send: errcode 45015', code: 'API_ERROR', errcode: 45015, stack: undefined })
  assert.equal(bare.err.type, 'RangeError')
  assert.equal(bare.err.message, 'bad')
})

test("through a plugin's worker: an error of the sandbox's realm, caught and logged, keeps its type, message and line", async () => {
  const source = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'logs-errors',
  handle(ctx) {
    try {
      JSON.parse('{')
    } catch (e) {
      ctx.log.error('parse failed', { err: e })
    }
    return ctx.reply.text('ok')
  },
})
`
  const project = pluginProject({ plugins: { 'logs-errors': source } }, 'log-errors')
  const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['logs-errors'] })
  try {
    assert.equal(textOf(await h.call('logs-errors', text('x'))), 'ok')
    const line = await h.log.waitFor((l) => l.msg === 'parse failed')
    const err = line.err as Record<string, unknown>
    assert.equal(err.type, 'SyntaxError')
    assert.match(String(err.message), /JSON/)
    assert.match(String(err.stack), /index\.ts:6:\d+/)
  } finally {
    await h.dispose()
    project.remove()
  }
})

test("pino's order, (fields, text), is taken as meant; an Error or an array first is still the text (a review)", () => {
  const { log, posted } = forwarder('info')
  // As a JavaScript plugin wrote it: the types say (text, fields).
  const anyLog = log as unknown as Record<'info', (...args: unknown[]) => void>
  anyLog.info({ n: 7 }, 'SLOWCOUNT ran')
  anyLog.info({ only: 'fields' })
  log.info('the usual order', { n: 8 })
  anyLog.info(new Error('boom'))
  anyLog.info([1, 2], 'x')
  assert.deepEqual(
    posted.map((m) => [m.msg, m.data]),
    [
      ['SLOWCOUNT ran', { n: 7 }],
      ['', { only: 'fields' }],
      ['the usual order', { n: 8 }],
      ['Error: boom', undefined],
      ['1,2', { data: 'x' }],
    ],
  )
})
