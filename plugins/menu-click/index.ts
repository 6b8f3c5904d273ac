/**
 * Answers the custom menu's CLICK buttons from configuration, with no code per button:
 *
 *   // engine.config.ts
 *   plugins: {
 *     'menu-click': { config: { replies: { V1001_TODAY: 'Today: sunny' }, fallback: 'Coming soon' } },
 *   }
 *
 * The config is checked against `configSchema` in plugin.json when the plugin loads, and the
 * schema's defaults are filled in, so `ctx.config` always has both fields.
 */
import { definePlugin } from 'wxengine/plugin'

type MenuConfig = {
  replies: Record<string, string>
  /** '' means: no answer of our own, let the routing go on. */
  fallback: string
}

export default definePlugin<MenuConfig>({
  name: 'menu-click',
  handle(ctx) {
    if (ctx.message.kind !== 'click') return ctx.pass()
    // Own keys only: a button keyed `constructor` or `toString` must not find Object.prototype's.
    const key = ctx.message.eventKey
    const text = Object.hasOwn(ctx.config.replies, key) ? ctx.config.replies[key] : ctx.config.fallback
    return text === '' ? ctx.pass() : ctx.reply.text(text)
  },
})
