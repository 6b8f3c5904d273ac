/**
 * The floor under issue #2's targets: our HTTP layer (create-app.ts, as the engine runs it) in front of the
 * least that the issue itself asks of every push, and nothing more: the replay window, the signature, the
 * XML read (DOCTYPE refused), the flat record, the reply XML, and in safe mode the msg_signature, AES both
 * ways and the signed envelope. No dedup, routing, session, message log, metrics or log line.
 *
 * What it answers is what wxengine answers from an inline rule. Against bare Koa in the same run it shows
 * how much of the bare-Koa budget the wire work alone takes (BENCHMARKS.md); MODE=plaintext or safe, with
 * the accounts of http-throughput.bench.ts.
 */
import type { AccountConfig } from '../../core/config/config-types.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { USER_MESSAGE_KINDS } from '../../core/normalize/message-types.ts'
import { SUCCESS, type WireResponse } from '../../core/receive/wire-types.ts'
import { serializeReply } from '../../core/reply/reply-xml.ts'
import { sealReply } from '../../core/reply/seal-reply.ts'
import { verifyPost, type VerifiedAccount } from '../../core/verify/verify-request.ts'
import { createWeChatCipher } from '../../core/verify/wechat-cipher.ts'
import { serveOnHttpLayer } from './serve-on-http-layer.ts'

const safe = process.env.MODE === 'safe'
const config: AccountConfig = safe
  ? { id: 'safe', token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }
  : { id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' }
const cipher = safe ? createWeChatCipher(config.encodingAESKey!, config.appId) : undefined
if (cipher && !cipher.ok) throw new Error(cipher.error.reason)
const account: VerifiedAccount = { config, cipher: cipher?.value }
const limits = { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 }
const windowSeconds = Number(process.env.TIMESTAMP_WINDOW_S ?? 600)
const refused: WireResponse = { status: 400, contentType: 'text/plain; charset=utf-8', body: 'refused' }

function handle(query: Record<string, string | undefined>, body: string): WireResponse {
  const now = Math.floor(Date.now() / 1000)
  const trusted = verifyPost(account, query, body, now, windowSeconds)
  if (!trusted.ok) return refused
  const normalized = normalizeMessage(trusted.value.fields)
  if (!normalized.ok) return refused
  const message = normalized.value
  if (message.kind !== 'text') return SUCCESS
  const envelope = { toUser: message.fromUser, fromUser: message.toUser, createTime: now, answeringUserMessage: USER_MESSAGE_KINDS.has(message.kind) }
  const xml = serializeReply({ type: 'text', content: 'Hello' }, envelope, limits).xml!
  return { status: 200, contentType: 'application/xml; charset=utf-8', body: trusted.value.encrypted ? sealReply(account, xml, now) : xml }
}

serveOnHttpLayer((req) => handle(req.query, req.body))
