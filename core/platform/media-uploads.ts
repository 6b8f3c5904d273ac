/**
 * Inline replies that name a file (`reply: {type: image, file: images/qr.png}`, docs/rules.md) get their
 * media_id here, when a rule set is loaded (start-up and each reload), before the set goes live: the message
 * path only reads the outcome. Each file is uploaded as permanent material (POST material/add_material,
 * multipart), which does not expire, and its media_id kept in the store's kv (namespace `media`, key
 * `<appId>:<sha256>`, and for a video `<appId>:<sha256>:<a hash of its title and description>`, which the
 * material carries; an untitled video's title is its file name, as uploaded): the same picture in two rules,
 * or renamed, or after a restart, is uploaded once; a changed picture (another sha256), or a video under
 * another title (an untitled one under another file name), is uploaded again. A media_id belongs to
 * one account: a rule for every account has one per account.
 *
 * A failed upload (the API down, an errcode, no answer in time) does not stop the load: the rule's target
 * fails for that account as a failing plugin does (MEDIA_UNAVAILABLE, the error or default reply answers), a
 * line says why, and the uploads are tried again on a backoff timer while the engine serves; once one
 * succeeds the engine reloads, and that load finds the media_id in the store. An account without an appSecret
 * cannot upload at all: a load warning says so, and nothing is retried.
 */
import { createLimiter } from '../limit-concurrency.ts'
import type { Logger } from '../log/logger.ts'
import type { ParsedRuleFile } from '../route/rules/load-rule-set.ts'
import { aMediaType, contentTypeOf, MEDIA_LIMITS } from '../route/rules/media-file.ts'
import type { MediaFile, MediaOutcome, RuleTarget } from '../route/rule-types.ts'
import { ALL_ACCOUNTS } from '../route/rules/compile-rule-set.ts'
import type { KvStore } from '../store/store.ts'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { PlatformClient } from './platform-api.ts'
import type { ApiJson } from './api-client.ts'
import type { Result } from '../errors.ts'

export const ADD_MATERIAL_PATH = '/cgi-bin/material/add_material'
export const MEDIA_NAMESPACE = 'media'
/** One upload's deadline (a 10 MB file over a slow link), and how long a load waits for its uploads in all. */
export const MEDIA_UPLOAD_TIMEOUT_MS = 30_000
/** Uploads in flight at once. */
export const MEDIA_UPLOADS_AT_ONCE = 2
/** The first retry of failed uploads; each later one waits twice as long, up to MEDIA_RETRY_MAX_MS. */
export const MEDIA_RETRY_FIRST_MS = 60_000
export const MEDIA_RETRY_MAX_MS = 30 * 60_000
/** How long a load's uploads may take before a line says the load (the start: nothing is served yet) waits on them. */
export const MEDIA_WAIT_NOTICE_MS = 3_000

/** What the store keeps per uploaded file. */
export interface StoredMedia {
  mediaId: string
  type: MediaFile['type']
  /** The platform's URL of an image (images only). */
  url?: string
  file: string
  uploadedAt: number
  /** The sha256 of the bytes uploaded (its key's). */
  sha256?: string
  /** A video's, as the rule wrote them (its key's): the material's title and introduction. */
  title?: string
  description?: string
}

export interface MediaUploadsOptions {
  accounts: readonly { id: string; appId: string }[]
  /** The account's API, or undefined when it has no appSecret. */
  apiFor: (accountId: string) => PlatformClient | undefined
  kv: KvStore
  log: Logger
  /** An upload failed at a load succeeded on a retry: load the set again (it reads the media_id from the store). */
  onRecovered: () => void
  /** An upload was tried and failed (metrics): once per try of a file for an account, however many rules use it. */
  onUploadFailed?: (account: string, file: string) => void
  timeoutMs?: number
  retryFirstMs?: number
  /** A load whose uploads are not all done after this says it is waiting on them (default 3 s; tests set less). */
  waitNoticeMs?: number
  /**
   * Upload nothing (`send --local`, a try-out that must neither spend the account's material quota nor call
   * the platform): a file gets the media_id the store already has, else a placeholder (NOT_UPLOADED) and a
   * load warning. `canUpload`: whether a serving engine could upload for the account (its appSecret; the
   * configuration here may be a stand-in's, which gives every account one); one that could not fails as it
   * would there. `account`: the one the try-out is for; the others' files are resolved alike, without a warning.
   */
  storedOnly?: { canUpload: (accountId: string) => boolean; account?: string }
}

export interface MediaUploads {
  /**
   * Gives every media target of `files` its outcome per account (target.byAccount), uploading what the store
   * does not have yet. Resolves with the load's warnings (accounts without an appSecret); never rejects.
   */
  resolve(files: readonly ParsedRuleFile[]): Promise<string[]>
  /**
   * One file's media_id for one account, got as a rule's is: the one this process or the store keeps for the
   * file's bytes, else an upload as permanent material (shared with one already running), within the upload
   * deadline; never rejects, and nothing is retried. For a command (`wxengine mass send --image <file>`): a
   * picture a rule uses, or one sent before, is not uploaded again, and one uploaded here is the rules' too.
   */
  upload(accountId: string, media: MediaFile): Promise<StoredMedia | { failed: string }>
  /** Stops the retry timer. */
  close(): void
}

/** The media_id of a file `send --local` found none for: a try-out's reply shows it, WeChat never sees it. */
export const NOT_UPLOADED = 'not-uploaded:'

const withoutSecretReason = (account: string) =>
  `account "${account}" has no appSecret, so the engine cannot upload it (set WECHAT_APPSECRET or the account's appSecret, or write the rule with a mediaId)`

/**
 * Why no media file of the rules can be uploaded for `account` (it has no appSecret: the engine gives it no
 * API, runtime.ts), or undefined when the engine uploads them at its start. The check's answer where nothing
 * is uploaded: rules check's warning, and menu check's button that such a rule would answer.
 */
export function cannotUploadFor(account: { id: string; appSecret?: string }): string | undefined {
  return account.appSecret ? undefined : withoutSecretReason(account.id)
}

function withoutSecretWarning(media: MediaFile, account: string): string {
  return `${media.at}: ${media.type} file ${media.file} cannot be uploaded: ${withoutSecretReason(account)}; the rule answers as a failing one does`
}

/** The configured accounts a rules file's media are for: every one for a file for all, else its own if configured. */
function accountsOf(file: ParsedRuleFile, accounts: readonly { id: string }[]): string[] {
  if (file.account === ALL_ACCOUNTS) return accounts.map((a) => a.id)
  return accounts.some((a) => a.id === file.account) ? [file.account] : []
}

/**
 * What the start would warn about media files without uploading anything (`wxengine rules check`): a file
 * used by an account that has no appSecret. A MediaResolver that leaves the targets as they are.
 */
export function checkMediaAccounts(accounts: readonly { id: string; appSecret?: string }[]): (files: readonly ParsedRuleFile[]) => Promise<string[]> {
  return async (files) => {
    const warnings: string[] = []
    for (const file of files) {
      for (const { media } of file.media) {
        for (const id of accountsOf(file, accounts)) if (cannotUploadFor(accounts.find((a) => a.id === id)!)) warnings.push(withoutSecretWarning(media, id))
      }
    }
    return warnings
  }
}

type MediaTarget = Extract<RuleTarget, { media: MediaFile }>

/** A rules file's targets that name a media file: its rules', handlers' and system replies'. */
function mediaTargets(file: ParsedRuleFile): MediaTarget[] {
  const targets = [...file.rules.map((r) => r.target), ...file.handlers.map((h) => h.target), ...file.system.map((s) => s.target)]
  return targets.filter((target): target is MediaTarget => 'media' in target)
}

/** Each media target of `files` with each configured account it is for. */
function* targetsByAccount(files: readonly ParsedRuleFile[], accounts: readonly { id: string }[]): Generator<{ target: MediaTarget; account: string }> {
  for (const file of files) {
    const ids = accountsOf(file, accounts)
    for (const target of mediaTargets(file)) for (const account of ids) yield { target, account }
  }
}

/** The target's outcome for `account`, where the router reads it (rule-types.ts byAccount). */
function setOutcome(target: MediaTarget, account: string, outcome: MediaOutcome): void {
  ;(target as { byAccount?: Record<string, MediaOutcome> }).byAccount = { ...target.byAccount, [account]: outcome }
}

/** Whether the engine uploads the media files of account `id` (one of `accounts`): see cannotUploadFor. */
export function canUploadFor(accounts: readonly { id: string; appSecret?: string }[], id: string): boolean {
  return accounts.some((a) => a.id === id && cannotUploadFor(a) === undefined)
}

/**
 * Per account, how many media files of resolved `files` have no media_id (their rules answer as failing
 * ones do): a file two rules name counts once. An account whose files all have one is there with 0.
 */
export function countMissingMedia(files: readonly ParsedRuleFile[]): Map<string, number> {
  const missing = new Map<string, Set<string>>()
  for (const file of files) {
    for (const target of mediaTargets(file)) {
      for (const [account, outcome] of Object.entries(target.byAccount ?? {})) {
        const paths = missing.get(account) ?? new Set<string>()
        if ('failed' in outcome) paths.add(target.media.path)
        missing.set(account, paths)
      }
    }
  }
  return new Map([...missing].map(([account, paths]) => [account, paths.size]))
}

interface Job {
  appId: string
  account: string
  media: MediaFile
  api: PlatformClient
}

export function createMediaUploads(opts: MediaUploadsOptions): MediaUploads {
  const { kv, log } = opts
  const timeoutMs = opts.timeoutMs ?? MEDIA_UPLOAD_TIMEOUT_MS
  const retryFirstMs = opts.retryFirstMs ?? MEDIA_RETRY_FIRST_MS
  /** By `<appId>:<sha256>`: one upload of a file at a time, shared by every rule and load that wants it. */
  const inflight = new Map<string, Promise<StoredMedia | { failed: string }>>()
  /**
   * What this engine uploaded or read, by the same key: a store that fails (Redis down, a full disk) must not
   * make every reload upload every file again, each a new permanent material against the account's quota.
   */
  const known = new Map<string, StoredMedia>()
  /** Two uploads at a time; each file is read and encoded only in its turn (upload()). */
  const slot = createLimiter(MEDIA_UPLOADS_AT_ONCE)
  let retryTimer: NodeJS.Timeout | undefined
  let retries = 0
  let closed = false
  /**
   * Aborted by close(): an upload in flight is cut and a load waiting on one goes on at once. Otherwise a stop
   * during a reload waited out the upload's deadline (30 s) before the engine could close (watcher.close()
   * waits for the reload), and the request kept the process alive as long.
   */
  const stopping = new AbortController()
  const STOPPING = 'the engine is stopping'
  const stopped = new Promise<{ failed: string }>((resolve) => stopping.signal.addEventListener('abort', () => resolve({ failed: STOPPING }), { once: true }))

  /**
   * A video's material carries a title and introduction (add_material's `description`): the same mp4 under
   * two titles is two materials, keyed apart. Images and voice keep the key they always had, so a store
   * written by an earlier version is read as it is, with no upload again. An untitled video is keyed by the
   * title it is uploaded with, its file name (uploadTitle): keyed by the absent title, two copies of one mp4
   * under two names shared the material of the first, and its name. (Its key before that, [null, ...], is
   * not read: such a video is uploaded once more, under its own name.)
   */
  const keyOf = (appId: string, media: Pick<MediaFile, 'sha256' | 'type' | 'title' | 'description' | 'path' | 'file'>) =>
    media.type === 'video' ? `${appId}:${media.sha256}:${createHash('sha256').update(JSON.stringify([uploadTitle(media), media.description ?? null])).digest('hex').slice(0, 16)}` : `${appId}:${media.sha256}`

  async function upload(job: Job): Promise<StoredMedia | { failed: string }> {
    const { media } = job
    // Read, encoded and sent in its turn (slot): files waiting for a turn are not held in memory meanwhile
    // (a load of 50 videos of 10 MB held them all, several copies each, while two went up).
    const sent = await slot(async (): Promise<{ failed: string } | StoredMedia | { r: Result<ApiJson>; sha256: string; size: number }> => {
      if (closed) return { failed: STOPPING }
      let bytes: Buffer
      try {
        bytes = await readFile(media.path)
      } catch (e) {
        return { failed: `cannot read ${media.path}: ${(e as Error).message}` }
      }
      // The file replaced since the load read it (or since the upload failed, for a retry): what is there now
      // is what the next load would take, so it is what is uploaded, kept under its own sha256. Refused, a
      // change with the watch off (the default) left the rule failing, and retried in vain, until a reload.
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      if (sha256 !== media.sha256) {
        const { maxBytes } = MEDIA_LIMITS[media.type]
        if (bytes.length === 0 || bytes.length > maxBytes) return { failed: `${media.file} changed since the rules were loaded, and is now ${bytes.length} bytes (1 to ${maxBytes} for ${aMediaType(media.type)})` }
        const mine = known.get(keyOf(job.appId, { ...media, sha256 }))
        if (mine) return mine
      }
      const form = new FormData()
      form.append('media', new Blob([new Uint8Array(bytes)], { type: contentTypeOf(media.file) }), fileName(media))
      if (media.type === 'video') form.append('description', JSON.stringify({ title: uploadTitle(media), introduction: media.description ?? '' }))
      if (closed) return { failed: STOPPING }
      return { r: await job.api.postFormResult(ADD_MATERIAL_PATH, form, { type: media.type }, timeoutMs, stopping.signal), sha256, size: bytes.length }
    })
    if (closed) return { failed: STOPPING }
    if (!('r' in sent)) return sent
    const { r, sha256, size } = sent
    if (!r.ok) return { failed: r.error.reason }
    const mediaId = r.value.media_id
    if (typeof mediaId !== 'string' || mediaId === '') return { failed: `${ADD_MATERIAL_PATH} answered without a media_id` }
    const stored: StoredMedia = {
      mediaId,
      type: media.type,
      file: media.file,
      uploadedAt: Date.now(),
      sha256,
      ...(typeof r.value.url === 'string' ? { url: r.value.url } : {}),
      ...(media.title === undefined ? {} : { title: media.title }),
      ...(media.description === undefined ? {} : { description: media.description }),
    }
    try {
      await kv.set(MEDIA_NAMESPACE, keyOf(job.appId, { ...media, sha256 }), stored as unknown as Parameters<KvStore['set']>[2])
    } catch (e) {
      // Served all the same, and kept in memory (`known`): a restart uploads it again.
      log.warn({ code: 'STORE_UNAVAILABLE', file: media.file, reason: (e as Error).message }, `media file ${media.file} uploaded but its media_id not kept: ${(e as Error).message}`)
    }
    log.info({ file: media.file, account: job.account, type: media.type, mediaId, bytes: size }, `uploaded ${media.type} file ${media.file} as permanent material`)
    return stored
  }

  /** What the store keeps under `key`; undefined when it has nothing (or cannot be read: `unreadable` says so). */
  async function readStored(key: string, unreadable: (reason: string) => void): Promise<StoredMedia | undefined> {
    try {
      const kept = await kv.get(MEDIA_NAMESPACE, key)
      if (kept && typeof kept === 'object' && !Array.isArray(kept) && typeof kept.mediaId === 'string') return kept as unknown as StoredMedia
    } catch (e) {
      unreadable((e as Error).message)
    }
    return undefined
  }

  /** The media_id from the store, or a new upload's (shared with anyone already uploading the same file). */
  function obtain(job: Job): Promise<StoredMedia | { failed: string }> {
    const key = keyOf(job.appId, job.media)
    const mine = known.get(key)
    if (mine) return Promise.resolve(mine)
    const running = inflight.get(key)
    if (running) return running
    const p = (async () => {
      const kept = await readStored(key, (reason) => log.warn({ code: 'STORE_UNAVAILABLE', file: job.media.file, reason }, `media cache unreadable, uploading ${job.media.file}: ${reason}`))
      return kept ?? upload(job)
    })()
      .catch((e: unknown) => ({ failed: e instanceof Error ? e.message : String(e) }))
      .then((got) => {
        // Under the key of the bytes uploaded: the file may have been replaced since the load (upload()).
        if (!('failed' in got)) known.set(got.sha256 === undefined ? key : keyOf(job.appId, { ...job.media, sha256: got.sha256 }), got)
        // Cut by the stop: not a failure (as the load's lines say).
        else if (!closed) opts.onUploadFailed?.(job.account, job.media.file)
        return got
      })
      .finally(() => inflight.delete(key))
    inflight.set(key, p)
    return p
  }

  function withDeadline(p: Promise<StoredMedia | { failed: string }>): Promise<StoredMedia | { failed: string }> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<{ failed: string }>((resolve) => {
      timer = setTimeout(() => resolve({ failed: `not uploaded within ${timeoutMs / 1000} s (still trying)` }), timeoutMs)
      timer.unref()
    })
    return Promise.race([p, late, stopped]).finally(() => clearTimeout(timer))
  }

  /** `backOff` false: the same wait as the last (a retry that recovered some, its reload to come). */
  function scheduleRetry(failed: Job[], backOff = true): void {
    clearTimeout(retryTimer)
    retryTimer = undefined
    if (failed.length === 0 || closed) {
      retries = 0
      return
    }
    if (!backOff) retries = Math.max(0, retries - 1)
    const delay = Math.min(retryFirstMs * 2 ** retries, MEDIA_RETRY_MAX_MS)
    retries++
    retryTimer = setTimeout(() => void retry(failed), delay)
    retryTimer.unref()
  }

  async function retry(jobs: Job[]): Promise<void> {
    const outcomes = await Promise.all(jobs.map((job) => obtain(job)))
    if (closed) return
    const still: Job[] = []
    jobs.forEach((job, i) => {
      const got = outcomes[i]!
      if (!('failed' in got)) return
      still.push(job)
      log.warn({ code: 'MEDIA_UNAVAILABLE', file: job.media.file, at: job.media.at, account: job.account, reason: got.failed }, `${job.media.at}: retrying the upload of ${job.media.type} file ${job.media.file} failed again`)
    })
    if (still.length < jobs.length) {
      // The reload's resolve schedules what is still failing, replacing this; scheduled here too, or a reload
      // refused before its resolve (a rules file broken meanwhile) left the rest never retried.
      scheduleRetry(still, false)
      opts.onRecovered()
    } else {
      scheduleRetry(still)
    }
  }

  /** The reply a media file makes with `mediaId`: a video's keeps the rule's title and description. */
  function replyOf(m: MediaFile, mediaId: string): MediaOutcome {
    return { reply: m.type === 'video' ? { type: 'video', mediaId, ...(m.title === undefined ? {} : { title: m.title }), ...(m.description === undefined ? {} : { description: m.description }) } : { type: m.type, mediaId } }
  }

  /** storedOnly's resolve: the store's media_ids, a placeholder for the rest; nothing uploaded, nothing retried. */
  async function resolveStoredOnly(files: readonly ParsedRuleFile[], only: NonNullable<MediaUploadsOptions['storedOnly']>): Promise<string[]> {
    const { canUpload } = only
    const said: string[] = []
    const configured = new Map(opts.accounts.map((a) => [a.id, a]))
    for (const { target, account } of targetsByAccount(files, opts.accounts)) {
      const m = target.media
      const warnings = only.account === undefined || only.account === account ? said : []
      let outcome: MediaOutcome
      if (!canUpload(account)) {
        warnings.push(withoutSecretWarning(m, account))
        outcome = { failed: withoutSecretReason(account) }
      } else {
        const key = keyOf(configured.get(account)!.appId, m)
        const kept = known.get(key) ?? (await readStored(key, (reason) => warnings.push(`${m.at}: the media_ids kept in the store cannot be read: ${reason}`)))
        if (kept) outcome = replyOf(m, kept.mediaId)
        else {
          warnings.push(`${m.at}: ${m.type} file ${m.file} has no media_id for account "${account}" yet, and send --local uploads nothing: the reply carries a placeholder; the engine uploads the file when it starts (or reloads)`)
          outcome = replyOf(m, `${NOT_UPLOADED}${m.file}`)
        }
      }
      setOutcome(target, account, outcome)
    }
    return said
  }

  return {
    async resolve(files) {
      if (opts.storedOnly) return resolveStoredOnly(files, opts.storedOnly)
      const warnings: string[] = []
      const configured = new Map(opts.accounts.map((a) => [a.id, a]))
      const wanted: { target: MediaTarget; account: string; job?: Job; noSecret?: string }[] = []
      for (const { target, account } of targetsByAccount(files, opts.accounts)) {
        const api = opts.apiFor(account)
        if (api) wanted.push({ target, account, job: { appId: configured.get(account)!.appId, account, media: target.media, api } })
        else {
          warnings.push(withoutSecretWarning(target.media, account))
          wanted.push({ target, account, noSecret: withoutSecretReason(account) })
        }
      }
      const all = Promise.all(wanted.map((w) => (w.job ? withDeadline(obtain(w.job)) : Promise.resolve({ failed: w.noSecret! }))))
      // A start waits here before it serves (up to timeoutMs, the platform slow or out of reach): said, or the
      // operator (and `send --local`) sees nothing for half a minute.
      const uploading = new Set(wanted.flatMap((w) => (w.job ? [keyOf(w.job.appId, w.job.media)] : []))).size
      const notice = uploading === 0 ? undefined : setTimeout(() => {
        log.warn({ code: 'MEDIA_UNAVAILABLE', uploads: uploading }, `waiting for ${uploading} media upload${uploading === 1 ? '' : 's'} to the platform (up to ${timeoutMs / 1000} s) before the rules go live: the platform is slow or out of reach`)
      }, opts.waitNoticeMs ?? MEDIA_WAIT_NOTICE_MS)
      notice?.unref()
      const outcomes = await all.finally(() => clearTimeout(notice))
      const failed: Job[] = []
      wanted.forEach((w, i) => {
        const got = outcomes[i]
        let outcome: MediaOutcome
        if ('failed' in got) {
          outcome = got
          // A load the stop cut short is thrown away: its uploads did not fail, and nothing is retried.
          if (w.job && !closed) {
            failed.push(w.job)
            log.error({ code: 'MEDIA_UNAVAILABLE', file: w.target.media.file, at: w.target.media.at, account: w.account, reason: got.failed }, `${w.target.media.at}: ${w.target.media.type} file ${w.target.media.file} not uploaded for account "${w.account}": ${got.failed}; the rule answers as a failing one does until an upload succeeds`)
          }
        } else {
          outcome = replyOf(w.target.media, got.mediaId)
        }
        setOutcome(w.target, w.account, outcome)
      })
      scheduleRetry(failed)
      return warnings
    },
    async upload(accountId, media) {
      const account = opts.accounts.find((a) => a.id === accountId)
      if (!account) return { failed: `no account "${accountId}"` }
      // A try-out's uploads (storedOnly) upload nothing; resolve is what it uses.
      if (opts.storedOnly) return { failed: `${media.file} is not uploaded: this engine uploads nothing (storedOnly)` }
      const api = opts.apiFor(accountId)
      if (!api) return { failed: withoutSecretReason(accountId) }
      return withDeadline(obtain({ appId: account.appId, account: accountId, media, api }))
    },
    close() {
      closed = true
      clearTimeout(retryTimer)
      stopping.abort(new Error(STOPPING))
    },
  }
}

/** The name a file is uploaded under: its own, without the folders. */
function fileName(media: Pick<MediaFile, 'path' | 'file'>): string {
  return media.path.split(/[/\\]/).pop() ?? media.file
}

/** A video's material title: the rule's, else the file's name (add_material wants one). */
function uploadTitle(media: Pick<MediaFile, 'title' | 'path' | 'file'>): string {
  return media.title ?? fileName(media)
}
