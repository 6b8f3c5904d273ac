/**
 * The plugin's console (core/plugin/sandbox/sandbox-console.ts), made in its realm: text joined there, a line
 * below the engine's level dropped there (vm2's redirect cost 45 µs a call, kept or not), other values
 * inspected by the worker as before, and console.dir kept (the redirect dropped it).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'
import { until } from '../support/until.ts'

const memory = createMemoryLogger('info')
const TALKER = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'talker',
  handle(ctx) {
    console.debug('below the level')
    console.log('two', 'words')
    console.warn('a count:', { n: 3 })
    console.dir({ deep: [1, 2] })
    console.error(new Error('boom'))
    return ctx.reply.text('talked')
  },
})
`
const RULES = 'rules:\n  - name: talk\n    keywords: [talk]\n    plugin: talker\n'

let client: TestClient
let project: PluginProject

before(async () => {
  project = pluginProject({ plugins: { talker: TALKER }, rules: { 'main.yaml': RULES } }, 'console')
  client = await createTestClient({ root: project.root, log: memory.logger })
})
after(async () => {
  await client.close()
  project.remove()
})

test("console lines: text joined, objects inspected, dir kept, debug dropped below the engine's level, each with the message's key", async () => {
  await client.expectReply('talk', 'talked')
  const of = () => memory.lines.filter((l) => l.plugin === 'talker')
  await until('four console lines', () => of().length >= 4)
  const lines = of().map((l) => [l.level, l.msg])
  assert.deepEqual(lines.slice(0, 3), [
    [30, 'two words'],
    [40, 'a count: { n: 3 }'],
    [30, '{ deep: [ 1, 2 ] }'],
  ])
  assert.equal(lines[3]![0], 50)
  assert.match(String(lines[3]![1]), /^Error: boom\n {4}at /)
  assert.ok(!lines.some(([, msg]) => msg === 'below the level'))
  assert.ok(of().every((l) => typeof l.key === 'string' && l.openId !== undefined), JSON.stringify(of()[0]))
})
