/**
 * The smallest useful plugin: say back what the user wrote.
 *
 * With a regex rule such as `regex: '^echo (?<text>.+)$'` the reply is the captured `text`;
 * with any other rule it is the whole message.
 */
import { definePlugin } from 'wxengine/plugin'

export default definePlugin({
  name: 'echo',
  handle(ctx) {
    // Only text can be echoed; anything else is left to the next rule (or the default reply).
    if (ctx.message.kind !== 'text') return ctx.pass()
    const text = ctx.match.groups.text ?? ctx.message.content
    return ctx.reply.text(text)
  },
})
