/**
 * The __PLUGIN_NAME__ plugin. __PLUGIN_ROUTED_BY__;
 * test/plugins/__PLUGIN_NAME__.test.ts tests it through the real engine. The plugin API: __DOCS__/plugins.md.
 */
import { definePlugin } from 'wxengine/plugin'

export default definePlugin({
  name: '__PLUGIN_NAME__',
  handle(ctx) {
    if (ctx.message.kind !== 'text') return ctx.pass()
    // The rule's regex names what follows the plugin's name `rest` (absent when the text is the bare name).
    const rest = ctx.match.groups.rest?.trim() ?? ''
    if (rest === '') return ctx.reply.text('Hello from __PLUGIN_NAME__! Send "__PLUGIN_NAME__ <anything>".')
    return ctx.reply.text(`__PLUGIN_NAME__: ${rest}`)
  },
})
