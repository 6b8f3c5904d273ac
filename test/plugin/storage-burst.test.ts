/**
 * A plugin's burst of storage writes does not hold the engine's thread (found by a robustness review: one
 * Promise.all of 200 storage.set calls of 1 MB stalled every account's messages for 5-8 s). The writes
 * are synchronous SQLite on the main thread; the runner runs them a slice of a turn at a time
 * (core/plugin/turn-slicer.ts), and the worker sends at most 4 MiB of values at once (the main thread
 * copies every message waiting on its port in one go), so the event loop turns between them.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient

before(async () => {
  project = pluginProject(
    {
      plugins: {
        burst: `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'burst',
  async handle(ctx) {
    const big = 'x'.repeat(500_000)
    await Promise.all(Array.from({ length: 60 }, (_, i) => ctx.storage.set('k' + i, big + i)))
    return ctx.reply.text('stored ' + (await ctx.storage.get('k59')).length)
  },
})
`,
      },
      rules: { 'main.yaml': 'rules:\n  - name: burst\n    keywords: [burst]\n    plugin: burst\n' },
    },
    'storage-burst',
  )
  client = await createTestClient({ root: project.root, config: { limits: { pluginTimeoutMs: 60_000 } } })
})
after(async () => {
  await client.close()
  project.remove()
})

test('60 concurrent writes of 500 KB: all stored, and the event loop never stops for long', async () => {
  // The longest gap between ticks of a 5 ms timer while the burst runs: how long everyone else waited.
  let last = performance.now()
  let longest = 0
  const ticker = setInterval(() => {
    const t = performance.now()
    longest = Math.max(longest, t - last)
    last = t
  }, 5)
  try {
    await client.expectReply('burst', 'stored 500002')
  } finally {
    clearInterval(ticker)
  }
  assert.equal((await client.storage('burst').get<string>('k0'))?.length, 500_001)
  // Measured: 660 ms before the slicing and the in-flight bound (core/plugin/sandbox/rpc-client.ts), 20-40 after.
  assert.ok(longest < 150, `the event loop stopped for ${longest.toFixed(0)} ms`)
})
