/**
 * Answers with a news card: one article, which is all the platform shows in reply to a user's message.
 *
 * The article comes from the rule's `args`, so one plugin serves many rules:
 *
 *   - name: docs
 *     keywords: [{ exact: 'docs' }]
 *     plugin: news-demo
 *     args: { title: 'Read the docs', url: 'https://example.com/docs' }
 */
import { definePlugin, type JsonValue } from 'wxengine/plugin'

const DEFAULT_ARTICLE = {
  title: 'wxengine',
  description: 'A plugin-based chatbot engine for WeChat Official Accounts.',
  url: 'https://example.com/wxengine',
  picUrl: 'https://example.com/wxengine/cover.png',
}

/** Rule args are any JSON: take a string or fall back. */
function textArg(args: Record<string, JsonValue> | undefined, key: string, fallback: string): string {
  const value = args?.[key]
  return typeof value === 'string' && value !== '' ? value : fallback
}

export default definePlugin({
  name: 'news-demo',
  handle(ctx) {
    const args = ctx.match.args
    return ctx.reply.news([
      {
        title: textArg(args, 'title', DEFAULT_ARTICLE.title),
        description: textArg(args, 'description', DEFAULT_ARTICLE.description),
        url: textArg(args, 'url', DEFAULT_ARTICLE.url),
        picUrl: textArg(args, 'picUrl', DEFAULT_ARTICLE.picUrl),
      },
    ])
  },
})
