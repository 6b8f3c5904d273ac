/**
 * A stored value may be declared as an interface, as a session state may (found by a plugin-author review:
 * `ctx.storage.user.get<Streak>('signin')` with `interface Streak` failed `T extends JsonValue`, an interface
 * having no index signature). Checked by tsc (test/typecheck), which compiles this file; the runtime
 * assertions only make it a test.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { definePlugin, type KeyValue } from '../../core/plugin/plugin-api.ts'

interface Streak {
  lastDay: number
  streak: number
}

test('get, set and update take an interface; the value keeps its type', () => {
  const plugin = definePlugin({
    name: 'signin',
    async handle(ctx) {
      const before = await ctx.storage.user.get<Streak>('signin')
      const streak: number = (before?.streak ?? 0) + 1
      await ctx.storage.user.set<Streak>('signin', { lastDay: 1, streak })
      const after = await ctx.storage.update<Streak>('best', (best) => (best && best.streak >= streak ? best : { lastDay: 1, streak }))
      return ctx.reply.text(String(after?.streak))
    },
  })
  assert.equal(plugin.name, 'signin')
  const read = (kv: KeyValue): Promise<Streak | undefined> => kv.get<Streak>('signin')
  assert.equal(typeof read, 'function')
})

test('undefined is not a stored value (it would not survive JSON)', () => {
  // @ts-expect-error: a value of undefined is refused at compile time
  const write = (kv: KeyValue) => kv.set<undefined>('k', undefined)
  assert.equal(typeof write, 'function')
})
