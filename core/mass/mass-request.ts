/**
 * A mass send (群发, 高级群发接口) asked for: the bodies of the mass-send API, checked here against what WeChat
 * states so that a send is refused by us, in words, before it reaches anyone (docs/cli.md `wxengine mass`):
 *
 *   POST message/mass/sendall  {"filter":{"is_to_all":true} | {"is_to_all":false,"tag_id":2}, <content>,
 *                               "msgtype":..., "clientmsgid":"...", "send_ignore_reprint":0 (mpnews only)}
 *   POST message/mass/send     {"touser":["OPENID1","OPENID2"], <content>, ...}: 2 to 10000 OpenIDs
 *   POST message/mass/preview  {"touser":"OPENID"} or {"towxname":"wxid"}, <content>, "msgtype"; no clientmsgid
 *   POST message/mass/get      {"msg_id":"201053012"}
 *   POST message/mass/delete   {"msg_id":30124,"article_idx":2}
 *   GET  tags/get
 *
 * The content by msgtype: text {"content"}, mpnews / voice / mpvideo {"media_id"}, and an image as
 * "images":{"media_ids":[...],"recommend","need_open_comment","only_fans_can_comment"} to followers but
 * "image":{"media_id"} in a preview.
 *
 * Nothing here reads a file or the network: the command decides whether --image names a file (uploaded
 * first) or a media_id, and gives the media_id it ends with.
 */
import { createHash } from 'node:crypto'
import { OPENID_SHAPE } from '../openid-shape.ts'

export const MASS_PATHS = {
  sendall: '/cgi-bin/message/mass/sendall',
  send: '/cgi-bin/message/mass/send',
  preview: '/cgi-bin/message/mass/preview',
  get: '/cgi-bin/message/mass/get',
  delete: '/cgi-bin/message/mass/delete',
  tags: '/cgi-bin/tags/get',
} as const

/** message/mass/send's list: fewer is refused by WeChat (one user is a preview's or a customer-service message's). */
export const MIN_OPENIDS = 2
export const MAX_OPENIDS = 10_000
/** clientmsgid's length: over it WeChat answers 45067. */
export const MAX_CLIENT_MSG_ID_BYTES = 64

export type MassTarget = { all: true } | { tagId: number } | { openIds: string[] }
export type PreviewTarget = { openId: string } | { wxName: string }

export type ContentType = 'text' | 'image' | 'voice' | 'mpnews' | 'mpvideo'
export type MassContent =
  | { type: 'text'; text: string }
  | { type: 'image'; mediaId: string; recommend?: string; openComment: boolean; fansOnlyComment: boolean }
  | { type: 'voice' | 'mpvideo'; mediaId: string }
  | { type: 'mpnews'; mediaId: string; ignoreReprint: boolean }

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string }

const refuse = (message: string): { ok: false; message: string } => ({ ok: false, message })

export const CONTENT_TYPES: readonly ContentType[] = ['text', 'image', 'voice', 'mpnews', 'mpvideo']

/** The content flags as given, the one chosen and its value. */
export type ContentFlags = Partial<Record<ContentType, string>>

export function contentFlagOf(flags: ContentFlags): { ok: true; type: ContentType; value: string } | { ok: false; message: string } {
  const given = CONTENT_TYPES.filter((t) => flags[t] !== undefined)
  if (given.length === 0) return refuse('say what to send: --text <text>, --image <file-or-media_id>, --voice <file-or-media_id>, --mpnews <media_id> or --mpvideo <media_id>')
  if (given.length > 1) return refuse(`${given.map((t) => `--${t}`).join(' and ')} both given: a mass message has one content`)
  return { ok: true, type: given[0]!, value: flags[given[0]!]! }
}

export interface ContentOptions {
  ignoreReprint?: boolean
  recommend?: string
  openComment?: boolean
  fansOnlyComment?: boolean
}

/** The content, its media_id already decided (a file's is the one its upload got). */
export function massContentOf(type: ContentType, value: string, opts: ContentOptions = {}): Checked<MassContent> {
  if (opts.ignoreReprint && type !== 'mpnews') return refuse('--ignore-reprint is for --mpnews (an article WeChat finds to be a reprint is sent anyway)')
  for (const [flag, set] of [['--recommend', opts.recommend !== undefined], ['--open-comment', opts.openComment], ['--fans-only-comment', opts.fansOnlyComment]] as const) {
    if (set && type !== 'image') return refuse(`${flag} is for --image`)
  }
  if (type === 'text') {
    // No length is checked: WeChat's documents state none for a mass text, and a guess would refuse sends it takes.
    if (value === '') return refuse('--text is empty')
    // Blanks alone (spaces, tabs, newlines, the full-width space): a message that reads as nothing, sent to
    // every follower it reaches, and counted against the day's or month's sends.
    if (value.trim() === '') return refuse(`--text ${JSON.stringify(value)} has only blanks (spaces, tabs, newlines): followers would get an empty-looking message; give the text to send`)
    return { ok: true, value: { type, text: value } }
  }
  if (value === '') return refuse(`--${type} is empty${type === 'image' || type === 'voice' ? ': give a file or a media_id' : ': give a media_id'}`)
  if (/\s/.test(value)) return refuse(`--${type} ${JSON.stringify(value)} is not a media_id (it has spaces)`)
  if (type === 'mpnews') return { ok: true, value: { type, mediaId: value, ignoreReprint: opts.ignoreReprint ?? false } }
  if (type === 'image') {
    if (opts.fansOnlyComment && !opts.openComment) return refuse('--fans-only-comment needs --open-comment (who may comment on comments that are off?)')
    return { ok: true, value: { type, mediaId: value, ...(opts.recommend === undefined ? {} : { recommend: opts.recommend }), openComment: opts.openComment ?? false, fansOnlyComment: opts.fansOnlyComment ?? false } }
  }
  return { ok: true, value: { type, mediaId: value } }
}

export interface TargetFlags {
  all?: boolean
  tag?: string
  to?: string
  /** --to-file's name (for messages) and what it holds. */
  toFile?: { name: string; text: string }
}

/**
 * OpenIDs from a --to (commas) or a --to-file (a line each, or commas; `#` to the end of a line is a comment),
 * in order, each once; and those given twice. Or the first word that is no OpenID, with its line in a file.
 */
function openIdsOf(text: string, inFile: boolean): { ids: string[]; repeated: string[] } | { bad: string; line?: number } {
  const seen = new Set<string>()
  const repeated: string[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const words = inFile ? lines[i]!.replace(/#.*/, '') : lines[i]!
    for (const id of words.split(/[\s,]+/)) {
      if (id === '') continue
      if (!OPENID_SHAPE.test(id)) return inFile ? { bad: id, line: i + 1 } : { bad: id }
      if (seen.has(id)) repeated.push(id)
      else seen.add(id)
    }
  }
  return { ids: [...seen], repeated }
}

export function massTargetOf(flags: TargetFlags): Checked<MassTarget> {
  const given = ([['--all', flags.all], ['--tag', flags.tag !== undefined], ['--to', flags.to !== undefined], ['--to-file', flags.toFile !== undefined]] as const).filter(([, set]) => set).map(([f]) => f)
  if (given.length === 0) return refuse('say who gets it: --all (every follower), --tag <id> (the followers with that tag: wxengine mass tags lists them), or --to <openid,openid,...>')
  if (given.length > 1) return refuse(`${given.join(' and ')} both given: a mass send goes to one target`)
  if (flags.all) return { ok: true, value: { all: true } }
  if (flags.tag !== undefined) {
    const id = Number(flags.tag)
    if (!/^\d+$/.test(flags.tag) || !Number.isSafeInteger(id)) return refuse(`--tag ${flags.tag}: a tag is given by its id, a whole number (wxengine mass tags lists them with their ids)`)
    return { ok: true, value: { tagId: id } }
  }
  const named = flags.to !== undefined ? `--to ${flags.to}` : `--to-file ${flags.toFile!.name}`
  const read = openIdsOf(flags.to ?? flags.toFile!.text, flags.to === undefined)
  if ('bad' in read) {
    const where = read.line === undefined ? '--to' : `--to-file ${flags.toFile!.name}:${read.line}`
    return refuse(`${where}: ${JSON.stringify(read.bad.slice(0, 60))} is no OpenID (letters, digits, _ and -, e.g. oAbC... of 28): give OpenIDs only, ${read.line === undefined ? 'separated by commas' : 'one a line (# begins a comment)'}`)
  }
  const { ids, repeated } = read
  if (ids.length === 0) return refuse(`${flags.to !== undefined ? '--to' : named} names no OpenID: give ${MIN_OPENIDS} to ${MAX_OPENIDS}, ${flags.to !== undefined ? 'separated by commas' : 'one a line'}`)
  if (ids.length < MIN_OPENIDS) {
    const twice = repeated.length > 0 ? ` (${repeated[0]} given twice)` : ''
    return refuse(`${named} is 1 OpenID${twice}: a send to a list takes ${MIN_OPENIDS} to ${MAX_OPENIDS} (to one user, use wxengine mass preview --to ${ids[0]})`)
  }
  if (ids.length > MAX_OPENIDS) return refuse(`${named} has ${ids.length} OpenIDs: a send to a list takes at most ${MAX_OPENIDS} (split it into several sends)`)
  return { ok: true, value: { openIds: ids } }
}

export function previewTargetOf(flags: { to?: string; toWxname?: string }): Checked<PreviewTarget> {
  if (flags.to === undefined && flags.toWxname === undefined) return refuse('say who gets the preview: --to <openid> or --to-wxname <wxid>')
  if (flags.to !== undefined && flags.toWxname !== undefined) return refuse('--to and --to-wxname both given: a preview goes to one of them')
  const who = (flags.to ?? flags.toWxname!).trim()
  const flag = flags.to !== undefined ? '--to' : '--to-wxname'
  if (who === '') return refuse(`${flag} is empty`)
  if (/[\s,]/.test(who)) return refuse(`${flag} ${who}: a preview goes to one ${flags.to !== undefined ? 'OpenID' : 'WeChat ID'} (to a list, use wxengine mass send --to)`)
  return { ok: true, value: flags.to !== undefined ? { openId: who } : { wxName: who } }
}

/** `every follower of the account`, `the followers with tag 2`, `3 OpenIDs`: what a send reaches. */
export function describeTarget(target: MassTarget): string {
  if ('all' in target) return 'every follower of the account'
  if ('tagId' in target) return `the followers with tag ${target.tagId}`
  return `${target.openIds.length} OpenIDs`
}

type Json = string | number | boolean | Json[] | { [key: string]: Json }

/** The content's part of a body: its object under its msgtype's name, then msgtype. */
function contentFields(content: MassContent, preview: boolean): Record<string, Json> {
  switch (content.type) {
    case 'text':
      return { text: { content: content.text }, msgtype: 'text' }
    case 'image':
      if (preview) return { image: { media_id: content.mediaId }, msgtype: 'image' }
      return {
        images: {
          media_ids: [content.mediaId],
          ...(content.recommend === undefined ? {} : { recommend: content.recommend }),
          need_open_comment: content.openComment ? 1 : 0,
          only_fans_can_comment: content.fansOnlyComment ? 1 : 0,
        },
        msgtype: 'image',
      }
    default:
      return { [content.type]: { media_id: content.mediaId }, msgtype: content.type }
  }
}

export interface MassCall {
  path: string
  body: Record<string, Json>
}

export function sendBody(target: MassTarget, content: MassContent, clientMsgId: string): MassCall {
  const to: Record<string, Json> =
    'openIds' in target ? { touser: target.openIds } : { filter: 'all' in target ? { is_to_all: true } : { is_to_all: false, tag_id: target.tagId } }
  return {
    path: 'openIds' in target ? MASS_PATHS.send : MASS_PATHS.sendall,
    body: {
      ...to,
      ...contentFields(content, false),
      clientmsgid: clientMsgId,
      // 0: an article WeChat's original check finds to be a reprint it may not send stops the send. Sent
      // always (for mpnews): left out, what WeChat does is not what its documents state.
      ...(content.type === 'mpnews' ? { send_ignore_reprint: content.ignoreReprint ? 1 : 0 } : {}),
    },
  }
}

export function previewBody(target: PreviewTarget, content: MassContent): MassCall {
  return { path: MASS_PATHS.preview, body: { ...('openId' in target ? { touser: target.openId } : { towxname: target.wxName }), ...contentFields(content, true) } }
}

/**
 * The clientmsgid of a send not given one: a hash of the account, who gets it, what it is and the day (UTC).
 * WeChat refuses a clientmsgid it has seen in the last 24 hours (45065, with that send's msg_id), so the same
 * command run twice the same day, a retry after a timeout that did reach WeChat, sends once. The next day the
 * same message can be sent again. The OpenIDs are sorted (who, not in what order); a file's content is given
 * by the command as its bytes' hash, so a dry run before the upload has the id the send will have.
 */
export function clientMsgIdFor(appId: string, target: MassTarget, content: MassContent, at: number): string {
  const who = 'openIds' in target ? { openIds: [...target.openIds].sort() } : target
  const day = new Date(at).toISOString().slice(0, 10)
  const hash = createHash('sha256').update(JSON.stringify([appId, who, content, day])).digest('hex')
  return `wxe-${hash.slice(0, 40)}`
}

export function checkClientMsgId(id: string): Checked<string> {
  if (id === '') return refuse('--client-msg-id is empty')
  // An id of blanks is one easy to mistype and reuse by accident: refused as the blank --text is.
  if (id.trim() === '') return refuse(`--client-msg-id ${JSON.stringify(id)} is only blanks: give an id with characters to read (promo-2026-12)`)
  const bytes = Buffer.byteLength(id)
  if (bytes > MAX_CLIENT_MSG_ID_BYTES) return refuse(`--client-msg-id is ${bytes} bytes, over the ${MAX_CLIENT_MSG_ID_BYTES} WeChat takes (it answers 45067)`)
  return { ok: true, value: id }
}

/** A msg_id as typed: digits, kept as digits (a 64-bit id read as a number would lose its last ones). */
export function msgIdOf(text: string): Checked<string> {
  const id = text.trim()
  if (!/^\d+$/.test(id)) return refuse(`msg_id ${JSON.stringify(text)} is not one: a msg_id is digits (mass send printed it: msg_id 1000000001)`)
  return { ok: true, value: id }
}

/** message/mass/get takes the msg_id as a string (its documented example). */
export function statusBody(msgId: string): MassCall {
  return { path: MASS_PATHS.get, body: { msg_id: msgId } }
}

/**
 * message/mass/delete's example sends the msg_id as a number: so it is while a number holds it exactly; past
 * 2^53 it goes as its digits, which WeChat's JSON reads as the same id (mass/get documents a string).
 * article_idx: the article of an mpnews (1 the first); absent or 0 deletes the whole message.
 */
export function deleteBody(msgId: string, articleIdx: number | undefined): Record<string, Json> {
  const n = Number(msgId)
  return { msg_id: Number.isSafeInteger(n) ? n : msgId, ...(articleIdx === undefined ? {} : { article_idx: articleIdx }) }
}
