/**
 * A session state may be declared as an interface (found by a plugin-author review: `interface State`
 * failed `S extends JsonValue`, an interface having no index signature). Checked by tsc (test/typecheck),
 * which compiles this file; the runtime assertions only make it a test.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { definePlugin, type PluginContext } from '../../core/plugin/plugin-api.ts'

interface BookingState {
  step: 'date' | 'time' | 'confirm'
  date?: string
  slots: number[]
}

test('an interface is a session state; its fields keep their types', () => {
  const plugin = definePlugin<Record<string, never>, BookingState>({
    name: 'booking',
    handle(ctx) {
      const state = ctx.session.state
      if (state?.step === 'date') ctx.session.update({ step: 'time', date: 'tomorrow', slots: [9, 10] })
      const first: number | undefined = state?.slots[0]
      return ctx.reply.text(String(first))
    },
  })
  assert.equal(plugin.name, 'booking')
  // The context's session is typed with the same interface.
  const step = (ctx: PluginContext<Record<string, never>, BookingState>): BookingState['step'] | undefined => ctx.session.state?.step
  assert.equal(typeof step, 'function')
})

test('undefined is not a state (it would not survive JSON)', () => {
  // @ts-expect-error: a state of undefined is refused at compile time
  const plugin = definePlugin<Record<string, never>, undefined>({ name: 'nothing', handle: (ctx) => ctx.pass() })
  assert.equal(plugin.name, 'nothing')
})
