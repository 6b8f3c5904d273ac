/**
 * The plugin's console (core/plugin/sandbox/sandbox-console.ts), made in its realm: text joined there, a line
 * below the engine's level dropped there (vm2's redirect cost 45 µs a call, kept or not), other values
 * inspected by the worker as before, and console.dir kept (the redirect dropped it).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { until } from '../support/until.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-console-'))
const memory = createMemoryLogger('info')
let client: TestClient

before(async () => {
  mkdirSync(path.join(root, 'plugins', 'talker'), { recursive: true })
  mkdirSync(path.join(root, 'rules'))
  writeFileSync(
    path.join(root, 'plugins', 'talker', 'index.ts'),
    `import { definePlugin } from 'wxengine/plugin'
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
`,
  )
  writeFileSync(path.join(root, 'rules', 'main.yaml'), 'rules:\n  - name: talk\n    keywords: [talk]\n    plugin: talker\n')
  client = await createTestClient({ root, log: memory.logger })
})
after(async () => {
  await client.close()
  rmSync(root, { recursive: true, force: true })
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
