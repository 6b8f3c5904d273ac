/**
 * A handler for a push no reply can reach (an unsubscribe, a platform report: core/route/no-reply-kinds.ts)
 * written with an inline reply: the router withholds that reply at every such push, so its author is told at
 * load, with the file and line, rather than by a line per message. `{type: none}` is what it gets anyway.
 */
import { NO_REPLY_KINDS } from '../no-reply-kinds.ts'
import type { ParsedRuleFile } from './load-rule-set.ts'

export function unreachableReplyWarnings(files: readonly ParsedRuleFile[]): string[] {
  const warnings: string[] = []
  for (const f of files) {
    for (const h of f.handlers) {
      if (!NO_REPLY_KINDS.has(h.kind)) continue
      const replies = 'media' in h.target || ('reply' in h.target && h.target.reply.type !== 'none')
      if (!replies) continue
      const why = h.kind === 'unsubscribe' ? 'the user has unfollowed' : 'it is a report of the platform, not something a user said'
      warnings.push(`${f.file}:${h.source.line}: handler "${h.name}": its reply is never sent: no reply can reach the ${h.kind} push (${why}), and the engine answers it with success; leave the reply out (a plugin may still take the push)`)
    }
  }
  return warnings
}
