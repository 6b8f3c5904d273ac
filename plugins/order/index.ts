/**
 * A dialogue written with `dialogue()`: the questions as a list of steps, each with how its answer is read.
 *
 * A rule sends `order` here (`order M` fills in the size from the rule's capture). The plugin asks for
 * what it still needs, one message at a time: an answer it cannot read gets the step's `retry`, a picture
 * gets "please answer in text", `cancel` or `取消` stops it, and a menu press goes on to its own rule. The
 * open question and the answers live in the session state, so the order survives a restart; each answer
 * gives the user another 5 minutes. At the end the order is kept in the user's storage.
 */
import { definePlugin, dialogue } from 'wxengine/plugin'

interface Order {
  size: 'S' | 'M' | 'L'
  count: number
  note: string
}

const SIZES = new Set(['S', 'M', 'L'])

export default definePlugin({
  name: 'order',
  handle: dialogue<Order>({
    ttlSeconds: 300,
    cancel: ['cancel', '取消'],
    cancelled: 'Order cancelled, nothing was saved.',
    prefill: (ctx) => ({ size: ctx.match.groups.size }),
    steps: [
      {
        key: 'size',
        ask: 'Which size: S, M or L? (Send "cancel" or "取消" to stop.)',
        parse: (text) => (SIZES.has(text.toUpperCase()) ? (text.toUpperCase() as Order['size']) : undefined),
        retry: 'S, M or L, please.',
      },
      {
        key: 'count',
        ask: (so) => `How many ${so.size}?`,
        parse: (text) => (/^\d{1,2}$/.test(text) && Number(text) > 0 ? Number(text) : undefined),
        retry: (text) => `"${text}" is not a number from 1 to 99. How many?`,
      },
      // No parse: the text itself is the answer.
      { key: 'note', ask: 'Anything we should know? ("no" if nothing)' },
    ],
    async done(order, ctx) {
      await ctx.storage.user.set('order', { ...order, at: ctx.message.createTime })
      return `Ordered: ${order.count} × ${order.size}${order.note.toLowerCase() === 'no' ? '' : ` (${order.note})`}.`
    },
  }),
})
