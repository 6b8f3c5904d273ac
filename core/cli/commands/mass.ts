/**
 * `wxengine mass`: WeChat's mass sending (群发, 高级群发接口), WeEngine's 群发 from the command line.
 *
 *   send      to every follower (sendall is_to_all), a tag's followers (sendall tag_id) or 2 to 10000
 *             OpenIDs (mass/send): checked (core/mass/mass-request.ts), refused without --yes, an --image or
 *             --voice file uploaded first as permanent material (media-uploads.ts: once per file), then sent
 *             with a clientmsgid that makes the same send, run twice, go out once
 *   preview   to one OpenID or WeChat ID (mass/preview), to see it on a phone before the send
 *   status    mass/get: SENDING, SEND_SUCCESS, SEND_FAIL, DELETE
 *   delete    mass/delete (--yes): an mpnews or video's page stops opening
 *   tags      tags/get: the account's tags and how many followers each has, to pick --tag
 *   results   the MASSSENDJOBFINISH pushes the engine received (the message log), with WeChat's counts
 *
 * The API calls use the account's access_token as the engine does, through the project's store
 * (open-account-api.ts), as `menu push` and `qrcode create` do.
 */
import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { utf8Text } from '../../utf8-text.ts'
import type { AccountConfig } from '../../config/config-types.ts'
import { createLogger } from '../../log/logger.ts'
import { DUPLICATE_CLIENT_MSG_ID, explainMassError, SYSTEM_BUSY, readSendAnswer, readStatusAnswer, readTags, repeatedMsgIdOf } from '../../mass/mass-api.ts'
import { parseMassJobSummary } from '../../mass/mass-job-summary.ts'
import {
  checkClientMsgId,
  clientMsgIdFor,
  contentFlagOf,
  deleteBody,
  describeTarget,
  MASS_PATHS,
  massContentOf,
  massTargetOf,
  msgIdOf,
  previewBody,
  previewTargetOf,
  sendBody,
  statusBody,
  type ContentFlags,
  type ContentType,
  type MassCall,
  type MassContent,
  type MassTarget,
} from '../../mass/mass-request.ts'
import type { EngineError } from '../../errors.ts'
import { refusalErrcode } from '../../platform/explain-errcode.ts'
import { createMediaUploads } from '../../platform/media-uploads.ts'
import type { JsonValue } from '../../plugin/plugin-api.ts'
import type { MediaFile } from '../../route/rule-types.ts'
import { extensionProblem, readMediaFile } from '../../route/rules/media-file.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectAccount, shownPath, stdio, tableLines, utcDateTime, type GlobalFlags, type Output } from '../cli-context.ts'
import { openAccountApi, type AccountApi } from '../open-account-api.ts'
import { withProjectStore } from '../open-project-store.ts'
import { sinceFlag } from './log.ts'

export interface MassContentFlags extends ContentFlags {
  recommend?: string
  openComment?: boolean
  fansOnlyComment?: boolean
  ignoreReprint?: boolean
}

export interface MassSendFlags extends GlobalFlags, MassContentFlags {
  account?: string
  all?: boolean
  tag?: string
  to?: string
  toFile?: string
  clientMsgId?: string
  dryRun?: boolean
  yes?: boolean
}

export interface MassPreviewFlags extends GlobalFlags, MassContentFlags {
  account?: string
  to?: string
  toWxname?: string
  dryRun?: boolean
}

const silent = createLogger({ level: 'silent' })

type Project = NonNullable<ReturnType<typeof loadProjectAccount>>

/** A value that is a file's name rather than a media_id: a media_id has no folder and no extension. */
const looksLikePath = (v: string) => /[\\/]/.test(v) || /\.[A-Za-z0-9]{2,5}$/.test(v)

/** The content's media: a media_id as given, or a file to upload (its bytes' hash standing in until then). */
type Source = { mediaId: string } | { file: MediaFile }

/**
 * --image / --voice: an existing file is uploaded; a value that looks like a file but is none is a mistake
 * (sent as a media_id, it would be refused with 40007 after the --yes); anything else a media_id. --mpnews and
 * --mpvideo take media_ids only: an article or a mass video is made with other APIs than a file upload.
 */
async function sourceOf(type: ContentType, value: string): Promise<Source | { problem: string }> {
  if (type === 'text') return { mediaId: '' }
  const file = path.resolve(value)
  const exists = value !== '' && existsSync(file)
  if (type === 'mpnews' || type === 'mpvideo') {
    if (exists && statSync(file).isFile()) {
      const what = type === 'mpnews' ? 'an article made with the material API (material/add_news), or in the console' : 'a video made for mass sending (media/uploadvideo)'
      return { problem: `--${type} takes a media_id, not a file: ${value} is one; give the media_id of ${what}` }
    }
    return { mediaId: value }
  }
  if (!exists) {
    if (value !== '' && looksLikePath(value)) return { problem: `--${type} ${value}: no such file (${shownPath(file)}); a media_id has no folder or extension` }
    return { mediaId: value }
  }
  const ext = extensionProblem(type, value)
  if (ext) return { problem: `--${type} ${ext.replace(/ reply:/, ':')}` }
  const read = await readMediaFile(type, file, value)
  if ('problem' in read) return { problem: `--${type} ${read.problem}` }
  return { file: { type, file: value, path: file, at: `--${type}`, sha256: read.sha256, bytes: read.bytes } }
}

interface Asked {
  content: MassContent
  source: Source
  type: ContentType
}

/** The content flags checked: the content, with a file's bytes' hash as its media_id until it is uploaded. */
async function contentOf(flags: MassContentFlags, command: string, io: Output): Promise<Asked | undefined> {
  const said = (message: string) => {
    io.err(`wxengine ${command}: ${message}`)
    return undefined
  }
  const chosen = contentFlagOf(flags)
  if (!chosen.ok) return said(chosen.message)
  const source = await sourceOf(chosen.type, chosen.value)
  if ('problem' in source) return said(source.problem)
  // A file's bytes stand for it until its upload gives the media_id: the default clientmsgid is made from
  // them, so a dry run before the upload shows the one the send will have.
  const stand = 'file' in source ? `file-sha256:${source.file.sha256}` : chosen.type === 'text' ? chosen.value : source.mediaId
  const content = massContentOf(chosen.type, stand, flags)
  if (!content.ok) return said(content.message)
  return { content: content.value, source, type: chosen.type }
}

/** The content with its media_id: a file's from the store or its upload (said), else as given. */
async function withMedia(asked: Asked, p: Project, opened: AccountApi, command: string, io: Output): Promise<MassContent | undefined> {
  const { content, source } = asked
  if (!('file' in source) || content.type === 'text') return content
  const uploads = createMediaUploads({ accounts: [p.account], apiFor: () => opened.api, kv: opened.kv, log: silent, onRecovered: () => undefined })
  const started = Date.now()
  const got = await uploads.upload(p.account.id, source.file).finally(() => uploads.close())
  if ('failed' in got) {
    io.err(`wxengine ${command}: ${source.file.file} could not be uploaded as permanent material: ${got.failed}; nothing was sent`)
    return undefined
  }
  const when = got.uploadedAt >= started ? 'uploaded now as permanent material' : `uploaded ${utcDateTime(got.uploadedAt)} UTC, kept in the store`
  io.out(`${source.file.type} ${source.file.file}: media_id ${got.mediaId} (${when})`)
  return { ...content, mediaId: got.mediaId }
}

/** `a text`, `an image`, `an mpnews (article)`: what is sent, in a sentence. */
function what(content: MassContent): string {
  switch (content.type) {
    case 'text':
      return `a text of ${[...content.text].length} characters`
    case 'image':
      return 'an image'
    case 'voice':
      return 'a voice message'
    case 'mpnews':
      return 'an article (mpnews)'
    case 'mpvideo':
      return 'a video (mpvideo)'
  }
}

/** A refusal or failure of the API in words: an errcode explained, a network failure (or the access_token's) as it is. */
function failure(failed: { error: EngineError; ofAccessToken?: true }): string {
  const errcode = refusalErrcode(failed)
  return errcode !== undefined ? `${explainMassError(errcode)} (${failed.error.reason})` : failed.error.reason
}

/**
 * A failure after which the call may have been done all the same: no answer (a timeout, a dropped connection)
 * from the API itself, or its -1 "system busy", which WeChat may answer after taking the call. Not a failure
 * to get the access_token: then nothing reached the API.
 */
function mayHaveBeenDone(failed: { error: EngineError; ofAccessToken?: true }): boolean {
  if (failed.ofAccessToken) return false
  return failed.error.errcode === undefined || failed.error.errcode === SYSTEM_BUSY
}

/** Why a call may have been done, in words: no answer, or the -1 explained. */
function whyUnknown(failed: { error: EngineError }): string {
  return failed.error.errcode === undefined ? `no answer from WeChat (${failed.error.reason})` : `${explainMassError(failed.error.errcode)} (${failed.error.reason})`
}

function printDryRun(call: MassCall, asked: Asked, account: AccountConfig, io: Output): void {
  // The stand-in is replaced inside the JSON text: the file's name goes in JSON-escaped (a quote or a
  // backslash in it made the text no JSON, and the dry run a stack).
  const inJson = (text: string) => JSON.stringify(text).slice(1, -1)
  const body = 'file' in asked.source ? JSON.parse(JSON.stringify(call.body).split(`file-sha256:${asked.source.file.sha256}`).join(inJson(`(the media_id of ${asked.source.file.file})`))) : call.body
  io.out(`POST ${call.path}`)
  io.out(JSON.stringify(body))
  if ('file' in asked.source) io.err(`dry run: ${asked.source.file.file} is uploaded (or its media_id taken from the store) when it is sent; its media_id goes where the JSON says`)
  io.err(`dry run: this is the JSON POST ${call.path} would send for account ${account.id}; nothing was sent`)
}

const SEND = 'mass send'

const DAY_MS = 86_400_000

/**
 * Whether a clientmsgid WeChat refused as used (45065) is known to be this message's: the default one made
 * from it (account, target, content, UTC day) for today or yesterday, the 24 hours WeChat looks back. Any
 * other (a --client-msg-id of the operator's) may have been used for another message.
 */
function isThisMessagesId(clientMsgId: string, appId: string, target: MassTarget, content: MassContent, at: number): boolean {
  return [at, at - DAY_MS].some((day) => clientMsgIdFor(appId, target, content, day) === clientMsgId)
}

export async function runMassSend(flags: MassSendFlags, io: Output = stdio, now: () => number = Date.now): Promise<number> {
  const said = (message: string) => {
    io.err(`wxengine ${SEND}: ${message}`)
    return EXIT_USAGE
  }
  let toFile: { name: string; text: string } | undefined
  if (flags.toFile !== undefined) {
    try {
      const bytes = await readFile(path.resolve(flags.toFile))
      // As a rules file is read: a UTF-16 list (PowerShell 5's >) went out as OpenIDs of NULs and U+FFFD.
      const text = utf8Text(bytes)
      if (!text.ok) return said(`--to-file ${flags.toFile}:${text.line}:${text.column}: ${text.message}`)
      toFile = { name: flags.toFile, text: text.text }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      return said(`--to-file ${flags.toFile}: ${code === 'ENOENT' ? `no such file (${shownPath(path.resolve(flags.toFile))})` : (e as Error).message}`)
    }
  }
  const target = massTargetOf({ all: flags.all, tag: flags.tag, to: flags.to, toFile })
  if (!target.ok) return said(target.message)
  const asked = await contentOf(flags, SEND, io)
  if (!asked) return EXIT_USAGE
  let given: string | undefined
  if (flags.clientMsgId !== undefined) {
    const checked = checkClientMsgId(flags.clientMsgId)
    if (!checked.ok) return said(checked.message)
    given = checked.value
  }
  const p = loadProjectAccount(flags, SEND, io)
  if (!p) return EXIT_USAGE
  const clientMsgId = given ?? clientMsgIdFor(p.account.appId, target.value, asked.content, now())
  const reach = `${what(asked.content)} to ${describeTarget(target.value)} (account ${p.account.id})`

  if (flags.dryRun) {
    printDryRun(sendBody(target.value, asked.content, clientMsgId), asked, p.account, io)
    return EXIT_OK
  }
  if (!flags.yes) {
    const counts = 'all' in target.value
      ? ": it goes into the account's history list, and is the day's one send of a subscription account or one of a service account's 4 a month"
      : 'tagId' in target.value
        ? ` (wxengine mass tags says how many they are)`
        : ''
    return said(`this sends ${reach}${counts}; add --yes to send it (--dry-run shows the JSON, wxengine mass preview sends it to one user first)`)
  }

  const opened = await openAccountApi(p.config, p.account, SEND, 'the mass-send API', io)
  if (typeof opened === 'number') return opened
  try {
    const content = await withMedia(asked, p, opened, SEND, io)
    if (!content) return EXIT_FAILED
    const call = sendBody(target.value, content, clientMsgId)
    const r = await opened.api.postResult(call.path, call.body as JsonValue)
    if (!r.ok) {
      if (r.error.errcode === DUPLICATE_CLIENT_MSG_ID) {
        const earlier = repeatedMsgIdOf(r.error.answer)
        if (isThisMessagesId(clientMsgId, p.account.appId, target.value, asked.content, now())) {
          // Not a failure: what the clientmsgid is for. The send made earlier (the same command today, or a
          // retry of one whose answer was lost) is this message; nothing new went out.
          io.err(`wxengine ${SEND}: already sent as msg_id ${earlier ?? '(WeChat named none)'}: clientmsgid ${clientMsgId} was sent in the last 24 hours, so WeChat sent nothing new${earlier ? `; wxengine mass status ${earlier} says how it went` : ''}`)
          return EXIT_OK
        }
        // A --client-msg-id of the operator's: the send that used it may have been another message (the id
        // typed again for a new one), which "already sent", exit 0, would have passed off as this one's.
        io.err(
          `wxengine ${SEND}: nothing sent: clientmsgid ${clientMsgId} was used in the last 24 hours${earlier ? ` (msg_id ${earlier})` : ''}, possibly for another message, and WeChat sends nothing new under it; ` +
            `if that send was this message, ${earlier ? `wxengine mass status ${earlier} says how it went` : 'it is made'}; if not, give another --client-msg-id to send this one`,
        )
        return EXIT_FAILED
      }
      // No access_token to be had: nothing reached the mass-send API, said as it is (below).
      if (r.error.errcode === undefined && !('ofAccessToken' in r)) {
        // A timeout or a lost answer: WeChat may have taken the send. The same clientmsgid, sent again, is
        // refused (45065) if it did. Named: the default one changes with the UTC day (08:00 in China), so
        // "the same command again today" could be a second send.
        io.err(`wxengine ${SEND}: no answer from WeChat (${r.error.reason}): the send may have been made; run the same command again with --client-msg-id ${clientMsgId} (within 24 hours), and WeChat refuses it if it was`)
        return EXIT_FAILED
      }
      if (r.error.errcode === SYSTEM_BUSY) {
        // Said as "nothing sent" it was retried with whatever id the retry made (a new one past 00:00 UTC,
        // or a --client-msg-id typed anew): a send that had gone out went out twice.
        io.err(`wxengine ${SEND}: ${explainMassError(SYSTEM_BUSY)} (${r.error.reason}): the send may have been made; run the same command again with --client-msg-id ${clientMsgId} (within 24 hours), and WeChat refuses it if it was`)
        return EXIT_FAILED
      }
      io.err(`wxengine ${SEND}: nothing sent: ${failure(r)}`)
      return EXIT_FAILED
    }
    const job = readSendAnswer(r.value)
    if (!job) {
      io.err(`wxengine ${SEND}: ${call.path} answered without a msg_id: ${JSON.stringify(r.value).slice(0, 200)}`)
      return EXIT_FAILED
    }
    io.out(`sent: ${reach}`)
    io.out(`msg_id: ${job.msgId}`)
    if (job.msgDataId !== undefined) io.out(`msg_data_id: ${job.msgDataId}`)
    io.out(`clientmsgid: ${clientMsgId}`)
    if ('all' in target.value) {
      io.err(
        'note: an account with API mass-send protection on (设置-安全中心-风险操作保护) holds a send to all followers until an administrator confirms it in WeChat; refused, or not confirmed within 30 minutes, it fails',
      )
    }
    io.err(`note: WeChat sends it in the background: wxengine mass status ${job.msgId} says where it is, and wxengine mass results shows its counts once the engine has the MASSSENDJOBFINISH push`)
    return EXIT_OK
  } finally {
    await opened.close()
  }
}

const PREVIEW = 'mass preview'

export async function runMassPreview(flags: MassPreviewFlags, io: Output = stdio): Promise<number> {
  const target = previewTargetOf(flags)
  if (!target.ok) {
    io.err(`wxengine ${PREVIEW}: ${target.message}`)
    return EXIT_USAGE
  }
  const asked = await contentOf(flags, PREVIEW, io)
  if (!asked) return EXIT_USAGE
  const p = loadProjectAccount(flags, PREVIEW, io)
  if (!p) return EXIT_USAGE
  if (flags.dryRun) {
    printDryRun(previewBody(target.value, asked.content), asked, p.account, io)
    return EXIT_OK
  }
  const opened = await openAccountApi(p.config, p.account, PREVIEW, 'the mass-send API', io)
  if (typeof opened === 'number') return opened
  try {
    const content = await withMedia(asked, p, opened, PREVIEW, io)
    if (!content) return EXIT_FAILED
    const call = previewBody(target.value, content)
    const r = await opened.api.postResult(call.path, call.body as JsonValue)
    const who = 'openId' in target.value ? `OpenID ${target.value.openId}` : `WeChat ID ${target.value.wxName}`
    if (!r.ok) {
      // A preview has no clientmsgid: run again, it is sent again. Said as "may have", so that the operator
      // looks at the phone first rather than sending the same preview twice.
      if (mayHaveBeenDone(r)) {
        io.err(`wxengine ${PREVIEW}: ${whyUnknown(r)}: the preview may have been sent; look for it in the chat of ${who} before running the command again, which sends another`)
        return EXIT_FAILED
      }
      io.err(`wxengine ${PREVIEW}: no preview sent: ${failure(r)}`)
      return EXIT_FAILED
    }
    const msgId = readSendAnswer(r.value)?.msgId
    io.out(`previewed: ${what(content)} to ${who} (account ${p.account.id})${msgId ? `, msg_id ${msgId}` : ''}`)
    return EXIT_OK
  } finally {
    await opened.close()
  }
}

async function withApi(flags: GlobalFlags & { account?: string }, command: string, io: Output, use: (api: AccountApi, p: Project) => Promise<number>): Promise<number> {
  const p = loadProjectAccount(flags, command, io)
  if (!p) return EXIT_USAGE
  const opened = await openAccountApi(p.config, p.account, command, 'the mass-send API', io)
  if (typeof opened === 'number') return opened
  try {
    return await use(opened, p)
  } finally {
    await opened.close()
  }
}

export async function runMassStatus(msgId: string, flags: GlobalFlags & { account?: string }, io: Output = stdio): Promise<number> {
  const id = msgIdOf(msgId)
  if (!id.ok) {
    io.err(`wxengine mass status: ${id.message}`)
    return EXIT_USAGE
  }
  return withApi(flags, 'mass status', io, async (opened) => {
    const call = statusBody(id.value)
    const r = await opened.api.postResult(call.path, call.body as JsonValue)
    if (!r.ok) {
      io.err(`wxengine mass status: ${failure(r)}`)
      return EXIT_FAILED
    }
    const status = readStatusAnswer(r.value)
    if (!status) {
      io.err(`wxengine mass status: ${call.path} answered without a msg_status: ${JSON.stringify(r.value).slice(0, 200)}`)
      return EXIT_FAILED
    }
    io.out(`msg_id ${status.msgId}: ${status.status}${status.words ? ` (${status.words})` : ''}`)
    return EXIT_OK
  })
}

export async function runMassDelete(msgId: string, flags: GlobalFlags & { account?: string; article?: string; yes?: boolean }, io: Output = stdio): Promise<number> {
  const said = (message: string) => {
    io.err(`wxengine mass delete: ${message}`)
    return EXIT_USAGE
  }
  const id = msgIdOf(msgId)
  if (!id.ok) return said(id.message)
  let article: number | undefined
  if (flags.article !== undefined) {
    if (!/^\d+$/.test(flags.article)) return said(`--article ${flags.article}: the article's place in the message, 1 for the first (0 deletes the whole message, as leaving it out does)`)
    article = Number(flags.article)
  }
  const which = article ? `article ${article} of msg_id ${id.value}` : `msg_id ${id.value}`
  if (!flags.yes) {
    return said(
      `this deletes ${which}: its page stops opening (those who received it keep the card in their chat); only an article (mpnews) or a video can be deleted, and deleting one send of an article deletes it for every send of it; add --yes to do it`,
    )
  }
  return withApi(flags, 'mass delete', io, async (opened, p) => {
    const r = await opened.api.postResult(MASS_PATHS.delete, deleteBody(id.value, article))
    if (!r.ok) {
      // WeChat may have deleted it before the answer was lost: mass status tells a whole message's DELETE,
      // and a delete, unlike a send, does no harm made twice: the same command again settles it.
      if (mayHaveBeenDone(r)) {
        io.err(`wxengine mass delete: ${whyUnknown(r)}: ${which} may have been deleted; wxengine mass status ${id.value} says DELETE once the message is, or run the same command again`)
        return EXIT_FAILED
      }
      io.err(`wxengine mass delete: ${which} not deleted: ${failure(r)}`)
      return EXIT_FAILED
    }
    io.out(`deleted: ${which} (account ${p.account.id})`)
    return EXIT_OK
  })
}

export async function runMassTags(flags: GlobalFlags & { account?: string; json?: boolean }, io: Output = stdio): Promise<number> {
  return withApi(flags, 'mass tags', io, async (opened, p) => {
    const r = await opened.api.getResult(MASS_PATHS.tags)
    if (!r.ok) {
      io.err(`wxengine mass tags: ${failure(r)}`)
      return EXIT_FAILED
    }
    const tags = readTags(r.value)
    if (!tags) {
      io.err(`wxengine mass tags: ${MASS_PATHS.tags} answered without a tag list: ${JSON.stringify(r.value).slice(0, 200)}`)
      return EXIT_FAILED
    }
    if (flags.json) {
      io.out(JSON.stringify(tags))
      return EXIT_OK
    }
    if (tags.length === 0) {
      io.err(`account ${p.account.id} has no tags (make them in the console, 用户管理 > 标签): send to everyone with --all, or to a list with --to`)
      return EXIT_OK
    }
    for (const line of tableLines([['ID', 'NAME', 'FOLLOWERS'], ...tags.map((t) => [String(t.id), t.name, String(t.count)])], new Set([0, 2]))) io.out(line)
    return EXIT_OK
  })
}

export interface MassResultsFlags extends GlobalFlags {
  account?: string
  since?: string
  limit?: number
  json?: boolean
}

/**
 * The mass sends' results the engine received, oldest of the selection first: read from the message log's
 * masssend_job_finish entries, whose summary the recorder writes (mass-job-summary.ts). A message's entry may
 * be written twice (at the reply budget, then when its plugin is done): the latest of each is shown.
 */
export async function runMassResults(flags: MassResultsFlags, io: Output = stdio): Promise<number> {
  const since = sinceFlag('mass results', flags.since, io)
  if (since === null) return EXIT_USAGE
  return withProjectStore(flags, 'mass results', io, {}, async (store) => {
    const limit = flags.limit ?? 50
    // A message has at most three entries (answered, then late, then its late reply's end): asked for so
    // many that `limit` results remain once each is taken once.
    const entries = await store.log.query({ kind: 'masssend_job_finish', account: flags.account, since, limit: limit * 3 })
    const seen = new Set<string>()
    const rows: { at: number; account: string; result: ReturnType<typeof parseMassJobSummary> }[] = []
    for (const e of entries) {
      if (rows.length === limit) break
      if (seen.has(`${e.account}\n${e.msgKey}`)) continue
      seen.add(`${e.account}\n${e.msgKey}`)
      rows.push({ at: e.at, account: e.account, result: parseMassJobSummary(e.summary) })
    }
    rows.reverse()
    const counted = rows.flatMap((r) => (r.result ? [{ ...r, result: r.result }] : []))
    const older = rows.length - counted.length
    if (flags.json) {
      io.out(JSON.stringify(counted.map((r) => ({ at: r.at, account: r.account, ...r.result }))))
    } else if (counted.length > 0) {
      const table = [['TIME (UTC)', 'ACCOUNT', 'MSG_ID', 'STATUS', 'TOTAL', 'FILTER', 'SENT', 'ERROR']]
      for (const { at, account, result: m } of counted) table.push([utcDateTime(at), account, m.msgId, m.status, String(m.totalCount), String(m.filterCount), String(m.sentCount), String(m.errorCount)])
      for (const line of tableLines(table, new Set([4, 5, 6, 7]))) io.out(line)
    }
    if (older > 0) io.err(`${older} result${older === 1 ? '' : 's'} logged by a wxengine that did not keep the counts (before mass results) left out`)
    if (rows.length === 0 && !flags.json) io.err(since === undefined ? 'no mass send results received yet (WeChat pushes MASSSENDJOBFINISH to the engine when a send ends)' : 'no mass send results received since then')
    return EXIT_OK
  })
}
