/**
 * A reload after an edit of rules/ only keeps the plugins' workers running: every reload used to start every
 * plugin's worker again, so a keyword added to a rules file cost each plugin its setup, its timers and what
 * it held in memory (and, with processes, a second set of them while the first drained). An edit under
 * plugins/ still restarts them, as does an explicit reload (SIGHUP); a plugin edited beside a rules file that
 * was refused is still restarted by the reload that takes the fixed rules. A real engine, real workers, real
 * file watching.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'
import { until } from '../support/until.ts'

/** Says which version of its code answered, which start of its worker (kept in storage) and how many calls that worker had. */
const counter = (version: string) => `import { definePlugin } from 'wxengine/plugin'
let start = 0
let calls = 0
export default definePlugin({
  name: 'counter',
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
const rules = (keywords: string[]) => `rules:\n  - { name: counter, keywords: [${keywords.join(', ')}], plugin: counter }\ndefault: { reply: { type: text, content: default } }\n`

let project: PluginProject
let h: Harness

before(async () => {
  project = pluginProject({ plugins: { counter: counter('v1') } }, 'reload-keeps')
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

it('an edit of rules/ keeps the workers (and what they hold); an edit under plugins/ and an explicit reload restart them', async () => {
  assert.equal(await say('hi'), 'v1 start 1 call 1')

  writeFileSync(`${h.dir}/rules/counter.yaml`, rules(['hi', 'hey']))
  assert.equal(await reloaded(1), 'reloaded rules; plugins kept running (no change under plugins/ or in their settings)')
  // The new rule reaches the same worker: its start and its count in memory go on.
  assert.equal(await say('hey'), 'v1 start 1 call 2')
  assert.equal(await say('hi'), 'v1 start 1 call 3')

  writeFileSync(`${project.root}/plugins/counter/index.ts`, counter('v2'))
  assert.equal(await reloaded(2), 'reloaded rules and plugins')
  assert.equal(await say('hey'), 'v2 start 2 call 1')

  assert.equal(await h.runtime.reload(), true)
  assert.equal(reloads()[2]?.msg, 'reloaded rules and plugins')
  assert.equal(await say('hi'), 'v2 start 3 call 1')
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
  assert.equal(await reloaded(before + 1), 'reloaded rules and plugins')
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
