/**
 * A reload after an edit of rules/ only keeps the plugins' workers running: every reload used to start every
 * plugin's worker again, so a keyword added to a rules file cost each plugin its setup, its timers and what
 * it held in memory (and, with processes, a second set of them while the first drained). An edit of one
 * plugin starts that one again, and the others serve on; an edit of shared code (plugins/_shared) and an
 * explicit reload (SIGHUP) restart them all; a plugin edited beside a rules file that was refused is still
 * restarted by the reload that takes the fixed rules. A real engine, real workers, real file watching.
 */
import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { after, before, it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'
import { until } from '../support/until.ts'

/** Says which version of its code answered, which start of its worker (kept in storage) and how many calls that worker had. */
const counter = (version: string, name = 'counter') => `import { definePlugin } from 'wxengine/plugin'
let start = 0
let calls = 0
export default definePlugin({
  name: '${name}',
  async setup(api) {
    start = ((await api.storage.get('starts')) ?? 0) + 1
    await api.storage.set('starts', start)
  },
  handle(ctx) {
    calls += 1
    return ctx.reply.text('${version} start ' + start + ' call ' + calls)
  },
})
`
const rules = (keywords: string[]) =>
  `rules:\n  - { name: counter, keywords: [${keywords.join(', ')}], plugin: counter }\n  - { name: steady, keywords: [steady], plugin: steady }\ndefault: { reply: { type: text, content: default } }\n`

let project: PluginProject
let h: Harness

before(async () => {
  project = pluginProject({ plugins: { counter: counter('v1'), steady: counter('s1', 'steady') } }, 'reload-keeps')
  h = await startHarness({ plugins: `${project.root}/plugins`, rules: { 'counter.yaml': rules(['hi']) }, config: { watch: true } })
})
after(async () => {
  await h.close()
  project.remove()
})

async function say(text: string): Promise<string> {
  const res = await h.post('plain', push.text('keeps-user', text))
  assert.equal(res.status, 200)
  return String(res.reply?.Content ?? res.body)
}

const reloads = () => h.lines.filter((l) => l.generation !== undefined && /^reloaded rules/.test(String(l.msg)))
/** Waits for reload number `n` since the start, and returns its line. */
async function reloaded(n: number): Promise<string> {
  await until(`reload ${n}`, () => reloads().length >= n, 10_000)
  return String(reloads()[n - 1]!.msg)
}

it('an edit of rules/ keeps the workers (and what they hold); an edit of one plugin restarts that one; an explicit reload restarts all', async () => {
  assert.equal(await say('hi'), 'v1 start 1 call 1')
  assert.equal(await say('steady'), 's1 start 1 call 1')

  writeFileSync(`${h.dir}/rules/counter.yaml`, rules(['hi', 'hey']))
  assert.equal(await reloaded(1), 'reloaded rules; plugins kept running (no change under plugins/ or in their settings)')
  // The new rule reaches the same worker: its start and its count in memory go on.
  assert.equal(await say('hey'), 'v1 start 1 call 2')
  assert.equal(await say('hi'), 'v1 start 1 call 3')

  writeFileSync(`${project.root}/plugins/counter/index.ts`, counter('v2'))
  assert.equal(await reloaded(2), 'reloaded rules and plugins (started again: counter; kept running: 1 other)')
  assert.equal(await say('hey'), 'v2 start 2 call 1')
  // The other plugin's worker, taken into the new set as it ran.
  assert.equal(await say('steady'), 's1 start 1 call 2')

  assert.equal(await h.runtime.reload(), true)
  assert.equal(reloads()[2]?.msg, 'reloaded rules and plugins')
  assert.equal(await say('hi'), 'v2 start 3 call 1')
  assert.equal(await say('steady'), 's1 start 2 call 1')
})

it('a plugin edited beside a rules file that was refused is restarted by the reload that takes the fixed file', async () => {
  const refusals = () => h.lines.filter((l) => l.code === 'RULE_INVALID').length
  const before = reloads().length
  const refusedBefore = refusals()
  // The broken rules first: should the watcher split the two writes into two reloads, both are refused.
  writeFileSync(`${h.dir}/rules/counter.yaml`, 'rules:\n  - { name: counter, keywords: [hi, plugin: counter }\n')
  writeFileSync(`${project.root}/plugins/counter/index.ts`, counter('v3'))
  await until('the refusal', () => refusals() > refusedBefore, 10_000)
  // The last good set serves meanwhile, the v3 code not in it (the refused load started no worker for good).
  assert.match(await say('hi'), /^v2 start \d+ call \d+$/)
  const refusedAt = reloads().length
  assert.equal(refusedAt, before, 'no reload was taken')

  writeFileSync(`${h.dir}/rules/counter.yaml`, rules(['hi', 'yo']))
  assert.equal(await reloaded(before + 1), 'reloaded rules and plugins (started again: counter; kept running: 1 other)')
  assert.match(await say('yo'), /^v3 start \d+ call 1$/)
})

it('a kept set serves on after the generations it came through are gone', async () => {
  const before = reloads().length
  writeFileSync(`${h.dir}/rules/counter.yaml`, rules(['hi', 'yo', 'sup']))
  assert.equal(await reloaded(before + 1), 'reloaded rules; plugins kept running (no change under plugins/ or in their settings)')
  writeFileSync(`${h.dir}/rules/counter.yaml`, rules(['hi', 'sup']))
  assert.equal(await reloaded(before + 2), 'reloaded rules; plugins kept running (no change under plugins/ or in their settings)')
  // Two generations retired since the set was loaded: it still answers, from the same worker.
  const first = await say('sup')
  const second = await say('hi')
  const [, start1, call1] = /^v3 start (\d+) call (\d+)$/.exec(first) ?? []
  assert.equal(second, `v3 start ${start1} call ${Number(call1) + 1}`)
  assert.equal(await say('yo'), 'default', 'the rule taken out is gone')
})

it('a plugin that no longer loads is refused without stopping the worker the reload took from the serving set', async () => {
  const before = reloads().length
  const refusals = () => h.lines.filter((l) => l.code === 'PLUGIN_LOAD' && /^reload refused/.test(String(l.msg)))
  const steadyBefore = await say('steady')
  const [, start, calls] = /^s1 start (\d+) call (\d+)$/.exec(steadyBefore) ?? []
  writeFileSync(`${project.root}/plugins/counter/index.ts`, `${counter('broken')}\nthis is not TypeScript\n`)
  await until('the refusal', () => refusals().length > 0, 15_000)
  assert.equal(reloads().length, before, 'no reload was taken')
  // The refused set held steady's worker too, and was disposed: the worker serves on, for the serving set.
  assert.equal(await say('steady'), `s1 start ${start} call ${Number(calls) + 1}`)
  assert.match(await say('hi'), /^v3 start \d+ call \d+$/)
  writeFileSync(`${project.root}/plugins/counter/index.ts`, counter('v4'))
  assert.equal(await reloaded(before + 1), 'reloaded rules and plugins (started again: counter; kept running: 1 other)')
  assert.match(await say('hi'), /^v4 start \d+ call 1$/)
  assert.equal(await say('steady'), `s1 start ${start} call ${Number(calls) + 2}`)
})

it('a plugin added is started and one removed stopped, the others kept; an edit of shared code restarts them all', async () => {
  const before = reloads().length
  project.plugin('extra', counter('e1', 'extra'))
  assert.equal(await reloaded(before + 1), 'reloaded rules and plugins (started: extra; kept running: 2 others)')
  rmSync(`${project.root}/plugins/extra`, { recursive: true })
  assert.equal(await reloaded(before + 2), 'reloaded rules and plugins (stopped: extra; kept running: 2 others)')
  assert.deepEqual(h.runtime.generations.current().plugins.names(), ['counter', 'steady'])

  const steadyStart = Number(/start (\d+)/.exec(await say('steady'))![1])
  mkdirSync(`${project.root}/plugins/_shared`, { recursive: true })
  writeFileSync(`${project.root}/plugins/_shared/words.ts`, 'export const hello = "hello"\n')
  assert.equal(await reloaded(before + 3), 'reloaded rules and plugins')
  assert.match(await say('steady'), new RegExp(`^s1 start ${steadyStart + 1} call 1$`))
})
