/**
 * A reload that comes while a plugin's worker is being restarted (after a crash): the call waiting for the
 * new worker is served by the reloaded set at once, not left to wait out its whole deadline for a worker of
 * a set that is no longer current. A real engine, real workers, real reloads.
 */
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { after, before, it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'
import { until } from '../support/until.ts'

const TIMEOUT_MS = 3000

/**
 * Crashes on "crash" (a throw from a timer), and the setup of the worker that replaces it takes far longer
 * than a call's deadline (a setup waiting on something slow): a call then waits for the new worker. Every
 * other start is quick; each answer says which start's worker gave it.
 */
const FLAKY = `import { definePlugin } from 'wxengine/plugin'
let start = 0
export default definePlugin({
  name: 'flaky',
  async setup(api) {
    start = ((await api.storage.get('starts')) ?? 0) + 1
    await api.storage.set('starts', start)
    if (await api.storage.get('slowNext')) {
      await api.storage.delete('slowNext')
      api.log.info('slow setup started')
      await new Promise((resolve) => setTimeout(resolve, 10_000))
    }
  },
  async handle(ctx) {
    const text = ctx.message.kind === 'text' ? ctx.message.content : ''
    if (text === 'crash') {
      await ctx.storage.set('slowNext', true)
      setTimeout(() => { throw new Error('crash from a timer') }, 0)
      return ctx.reply.text('crashing soon')
    }
    return ctx.reply.text('start ' + start + ': ' + text)
  },
})
`
const RULES = `
rules:
  - { name: flaky, keywords: [crash, hello, again], plugin: flaky }
default: { reply: { type: text, content: default } }
`

let project: PluginProject
let h: Harness

before(async () => {
  project = pluginProject({ plugins: { flaky: FLAKY } }, 'reload-restart')
  h = await startHarness({
    plugins: `${project.root}/plugins`,
    rules: { 'flaky.yaml': RULES },
    config: { limits: { pluginTimeoutMs: TIMEOUT_MS } } as never,
  })
})
after(async () => {
  await h.close()
  project.remove()
})

/** Waits until the `n`th slow restart's setup is running. */
const slowRestartStarted = (n: number) => until(`slow restart ${n}`, () => h.lines.filter((l) => l.msg === 'slow setup started').length >= n)

async function say(text: string): Promise<string> {
  const res = await h.post('plain', push.text('restart-user', text))
  assert.equal(res.status, 200)
  return String(res.reply?.Content ?? res.body)
}

it('a call waiting for a restarting worker when a reload comes is served by the reloaded set at once', async () => {
  assert.equal(await say('hello'), 'start 1: hello')
  assert.equal(await say('crash'), 'crashing soon')
  await slowRestartStarted(1)

  // The restarted worker's setup takes 10 s: this call waits for it; the reload starts the plugin afresh.
  const started = performance.now()
  const waiting = say('again')
  assert.equal(await h.runtime.reload(), true)
  const answer = await waiting
  const took = performance.now() - started
  assert.equal(answer, 'start 3: again')
  assert.ok(took < TIMEOUT_MS, `answered after ${Math.round(took)} ms, the deadline is ${TIMEOUT_MS} ms`)
  // Said in the log: where the call went and why.
  assert.ok(h.lines.some((l) => /handed to the reloaded plugins/.test(String(l.msg))), 'a line says the waiting call was handed over')
})

it('a call waiting for a restarting worker when a reload removes the plugin fails at once, saying why', async () => {
  assert.match(await say('hello'), /^start \d+: hello$/)
  assert.equal(await say('crash'), 'crashing soon')
  await slowRestartStarted(2)

  const started = performance.now()
  const waiting = say('again')
  // The plugin and the rule that named it, both gone (a reload refuses to take away a plugin its rules name).
  rmSync(`${project.root}/plugins/flaky`, { recursive: true })
  writeFileSync(`${h.dir}/rules/flaky.yaml`, 'default: { reply: { type: text, content: default } }\n')
  assert.equal(await h.runtime.reload(), true)
  // The rule's plugin is gone: the message falls through to the default reply.
  assert.equal(await waiting, 'default')
  const took = performance.now() - started
  assert.ok(took < TIMEOUT_MS, `answered after ${Math.round(took)} ms, the deadline is ${TIMEOUT_MS} ms`)
  const line = h.lines.find((l) => /waiting for its worker failed/.test(String(l.msg)))
  assert.ok(line, 'a line says why the waiting call failed')
  assert.match(String(line.reason), /a reload removed or disabled the plugin/)
})
