/**
 * core/platform/media-uploads.ts against the fake platform: a rule for every account gets one media_id per
 * account; at most two uploads are in flight; an upload with no answer fails the load's wait (and the rule)
 * without holding the load; a token the platform rejects mid-upload is refreshed and the upload sent again.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createMediaUploads, MEDIA_NAMESPACE } from '../../core/platform/media-uploads.ts'
import { createPlatformApi, type PlatformClient } from '../../core/platform/platform-api.ts'
import { readRuleFiles, type ParsedRuleFile } from '../../core/route/rules/load-rule-set.ts'
import type { MediaOutcome } from '../../core/route/rule-types.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import type { KvStore } from '../../core/store/store.ts'
import { startRedisServer } from '../support/redis-server.ts'
import { FAKE_PATHS, startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const APPS = [
  { id: 'a', appId: 'wxaaaaaaaaaaaaaaaa', appSecret: 'sa' },
  { id: 'b', appId: 'wxbbbbbbbbbbbbbbbb', appSecret: 'sb' },
]

const roots: string[] = []
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true })
})

async function parsed(files: Record<string, string>): Promise<ParsedRuleFile[]> {
  const root = await mkdtemp(join(tmpdir(), 'wxengine-media-up-'))
  roots.push(root)
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true })
    await writeFile(join(root, rel), text)
  }
  const r = await readRuleFiles(root)
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.files
}

function setup(api: FakeWeChatApi, timeoutMs?: number, kv?: KvStore, waitNoticeMs?: number, retryFirstMs = 60_000) {
  const store = createMemoryStore()
  const { logger, lines } = createMemoryLogger('debug')
  const client = createApiClient({ baseUrl: api.baseUrl })
  const apis = new Map<string, PlatformClient>(
    APPS.map((a) => [a.id, createPlatformApi({ client, tokens: createAccessTokenManager({ appId: a.appId, appSecret: a.appSecret, client, tokens: store.tokens, log: logger }) })]),
  )
  let recovered = 0
  const uploads = createMediaUploads({ accounts: APPS, apiFor: (id) => apis.get(id), kv: kv ?? store.kv, log: logger, onRecovered: () => recovered++, timeoutMs, retryFirstMs, waitNoticeMs })
  return { store, lines, uploads, recovered: () => recovered }
}

const outcomes = (files: ParsedRuleFile[]): Record<string, MediaOutcome>[] =>
  files.flatMap((f) => f.rules.map((r) => r.target)).flatMap((t) => ('media' in t ? [{ ...t.byAccount }] : []))

describe('media uploads', () => {
  it('a rule for every account: one upload and one media_id per account, kept by appId and sha256', async () => {
    const api = await startFakeWeChatApi({ apps: APPS })
    const { store, uploads } = setup(api)
    try {
      const files = await parsed({ 'main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: image, file: qr.png}\n', 'qr.png': 'png' })
      assert.deepEqual(await uploads.resolve(files), [])
      assert.deepEqual(api.uploads.map((u) => u.appId).sort(), APPS.map((a) => a.appId))
      const [byAccount] = outcomes(files)
      for (const a of APPS) {
        const mine = api.uploads.find((u) => u.appId === a.appId)!
        assert.deepEqual(byAccount[a.id], { reply: { type: 'image', mediaId: mine.mediaId } })
        const kept = await store.kv.get(MEDIA_NAMESPACE, `${a.appId}:${mine.sha256}`)
        assert.equal((kept as { mediaId: string }).mediaId, mine.mediaId)
      }
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('the same video in two rules with different titles: a material each, with its own title; the same title and introduction share one', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const { uploads } = setup(api)
    try {
      const video = (name: string, extra: string) => `  - name: ${name}\n    keywords: [${name}]\n    reply: {type: video, file: tour.mp4${extra}}\n`
      const files = await parsed({
        'a/main.yaml': `rules:\n${video('t1', ', title: The tour, description: Five minutes')}${video('t2', ', title: La visite, description: Five minutes')}${video('t3', ', title: The tour, description: Five minutes')}${video('t4', '')}`,
        'a/tour.mp4': 'mp4',
      })
      assert.deepEqual(await uploads.resolve(files), [])
      assert.deepEqual(api.uploads.map((u) => u.description?.title).sort(), ['La visite', 'The tour', 'tour.mp4'])
      const ids = outcomes(files).map((o) => (o.a as { reply: { mediaId: string } }).reply.mediaId)
      const idOf = (title: string) => api.uploads.find((u) => u.description?.title === title)!.mediaId
      assert.deepEqual(ids, [idOf('The tour'), idOf('La visite'), idOf('The tour'), idOf('tour.mp4')])
      // Loaded again: all from memory and the store.
      assert.deepEqual(await uploads.resolve(await parsed({ 'a/main.yaml': `rules:\n${video('t2', ', title: La visite, description: Five minutes')}`, 'a/tour.mp4': 'mp4' })), [])
      assert.equal(api.uploads.length, 3)
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('one mp4 under two file names, untitled: a material each, titled with its own name (the title uploaded is the one keyed)', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const { store, uploads } = setup(api)
    try {
      const video = (name: string, file: string) => `  - name: ${name}\n    keywords: [${name}]\n    reply: {type: video, file: ${file}}\n`
      const files = await parsed({ 'a/main.yaml': `rules:\n${video('t1', 'tour.mp4')}${video('t2', 'visite.mp4')}`, 'a/tour.mp4': 'mp4', 'a/visite.mp4': 'mp4' })
      assert.deepEqual(await uploads.resolve(files), [])
      assert.deepEqual(api.uploads.map((u) => u.description?.title).sort(), ['tour.mp4', 'visite.mp4'])
      const idOf = (title: string) => api.uploads.find((u) => u.description?.title === title)!.mediaId
      assert.deepEqual(
        outcomes(files).map((o) => (o.a as { reply: { mediaId: string } }).reply.mediaId),
        [idOf('tour.mp4'), idOf('visite.mp4')],
      )
      // Kept apart in the store too: a restart (a new engine, the same store) uploads neither again.
      const { uploads: again } = setup(api, undefined, store.kv)
      try {
        const reloaded = await parsed({ 'a/main.yaml': `rules:\n${video('t2', 'visite.mp4')}${video('t1', 'tour.mp4')}`, 'a/tour.mp4': 'mp4', 'a/visite.mp4': 'mp4' })
        assert.deepEqual(await again.resolve(reloaded), [])
        assert.deepEqual(
          outcomes(reloaded).map((o) => (o.a as { reply: { mediaId: string } }).reply.mediaId),
          [idOf('visite.mp4'), idOf('tour.mp4')],
        )
      } finally {
        again.close()
      }
      assert.equal(api.uploads.length, 2)
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('a titled video kept under the key of earlier versions (appId:sha256:hash of [title, description]) is not uploaded again', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const store = createMemoryStore()
    const { uploads } = setup(api, undefined, store.kv)
    try {
      const files = await parsed({ 'a/main.yaml': 'rules:\n  - name: v\n    keywords: [v]\n    reply: {type: video, file: tour.mp4, title: The tour}\n', 'a/tour.mp4': 'mp4' })
      const sha = (text: string) => createHash('sha256').update(text).digest('hex')
      await store.kv.set(MEDIA_NAMESPACE, `${APPS[0].appId}:${sha('mp4')}:${sha(JSON.stringify(['The tour', null])).slice(0, 16)}`, { mediaId: 'old-video', type: 'video', file: 'tour.mp4', uploadedAt: 1, title: 'The tour' })
      assert.deepEqual(await uploads.resolve(files), [])
      assert.equal(api.uploads.length, 0)
      assert.deepEqual(outcomes(files), [{ a: { reply: { type: 'video', mediaId: 'old-video', title: 'The tour' } } }])
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('an image or voice kept under the key of earlier versions (appId:sha256) is not uploaded again', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const store = createMemoryStore()
    const { uploads } = setup(api, undefined, store.kv)
    try {
      const files = await parsed({
        'a/main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: image, file: qr.png}\n  - name: v\n    keywords: [v]\n    reply: {type: voice, file: hi.amr}\n',
        'a/qr.png': 'png',
        'a/hi.amr': 'amr',
      })
      const sha = (text: string) => createHash('sha256').update(text).digest('hex')
      await store.kv.set(MEDIA_NAMESPACE, `${APPS[0].appId}:${sha('png')}`, { mediaId: 'old-image', type: 'image', file: 'qr.png', uploadedAt: 1 })
      await store.kv.set(MEDIA_NAMESPACE, `${APPS[0].appId}:${sha('amr')}`, { mediaId: 'old-voice', type: 'voice', file: 'hi.amr', uploadedAt: 1 })
      assert.deepEqual(await uploads.resolve(files), [])
      assert.equal(api.uploads.length, 0)
      assert.deepEqual(outcomes(files), [{ a: { reply: { type: 'image', mediaId: 'old-image' } } }, { a: { reply: { type: 'voice', mediaId: 'old-voice' } } }])
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('at most two uploads at once', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const { uploads } = setup(api)
    try {
      const rules = [1, 2, 3, 4].map((n) => `  - name: r${n}\n    keywords: [k${n}]\n    reply: {type: image, file: p${n}.png}\n`).join('')
      const files = await parsed({ 'a/main.yaml': `rules:\n${rules}`, 'a/p1.png': '1', 'a/p2.png': '2', 'a/p3.png': '3', 'a/p4.png': '4' })
      const release = api.hold(FAKE_PATHS.addMaterial)
      const done = uploads.resolve(files)
      const arrived = () => api.requests.filter((r) => r.path === FAKE_PATHS.addMaterial).length
      const end = Date.now() + 5_000
      while (arrived() < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
      await new Promise((r) => setTimeout(r, 200))
      assert.equal(arrived(), 2, 'two in flight, the others wait')
      // The two waiting are not read yet (each file is read in its turn: 50 files of 10 MB waiting must not all
      // be held in memory): a change made now is what goes up.
      const root = dirname(files[0].file)
      await writeFile(join(root, 'p3.png'), 'three, changed')
      await writeFile(join(root, 'p4.png'), 'four, changed')
      release()
      await done
      assert.equal(api.uploads.length, 4)
      const sizes = api.uploads.map((u) => u.bytes).sort((a, b) => a - b)
      assert.deepEqual(sizes, [1, 1, 13, 14], 'the files waiting for a slot were read when their turn came')
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('an upload with no answer: the load goes on without it, the rule fails for now', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const { uploads, lines } = setup(api, 300)
    try {
      api.hangNext(FAKE_PATHS.addMaterial, 1)
      const files = await parsed({ 'a/main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: voice, file: hi.amr}\n', 'a/hi.amr': 'amr' })
      const started = Date.now()
      await uploads.resolve(files)
      assert.ok(Date.now() - started < 3_000)
      const [byAccount] = outcomes(files)
      assert.ok(byAccount.a && 'failed' in byAccount.a)
      assert.match(byAccount.a.failed, /timed out|not uploaded within/)
      assert.ok(lines.some((l) => l.code === 'MEDIA_UNAVAILABLE' && /hi\.amr not uploaded for account "a"/.test(String(l.msg))))
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('a load held by an upload with no answer says so while it waits (start is blocked meanwhile)', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const { uploads, lines } = setup(api, 1_500, undefined, 200)
    try {
      api.hangNext(FAKE_PATHS.addMaterial, 1)
      const files = await parsed({ 'a/main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: voice, file: hi.amr}\n', 'a/hi.amr': 'amr' })
      // The lines logged by the time the wait is over (counted as it ends), not those seen after a fixed
      // 800 ms: on a loaded machine the 200 ms notice could come later than that and still be in time.
      const linesWhenOver = uploads.resolve(files).then(() => lines.length)
      const logged = lines.slice(0, await linesWhenOver)
      const waiting = logged.find((l) => l.level === 40 && /waiting .*1 media upload.*up to 1\.5 s/.test(String(l.msg)))
      assert.ok(waiting, 'a warning says the load waits for the upload, before the wait is over')
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('a token the platform rejects is refreshed and the upload sent again, body and all', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const { uploads } = setup(api)
    try {
      api.failNext(FAKE_PATHS.addMaterial, 1, 40001)
      const files = await parsed({ 'a/main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: image, file: qr.gif}\n', 'a/qr.gif': 'GIF89a' })
      await uploads.resolve(files)
      assert.equal(api.uploads.length, 1)
      assert.equal(api.uploads[0].bytes, 6)
      assert.equal(api.tokenRequests, 2)
      const [byAccount] = outcomes(files)
      assert.ok(byAccount.a && 'reply' in byAccount.a)
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('a store that fails: the media_id is kept in memory, and the next load uploads nothing again', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const down = () => Promise.reject(new Error('store down'))
    const failing = { ...createMemoryStore().kv, get: down, set: down } as KvStore
    const { uploads, lines } = setup(api, undefined, failing)
    try {
      const files = () => parsed({ 'a/main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: image, file: qr.png}\n', 'a/qr.png': 'png' })
      await uploads.resolve(await files())
      assert.ok(lines.some((l) => l.code === 'STORE_UNAVAILABLE'), 'the failing store is said')
      const again = await files()
      await uploads.resolve(again)
      assert.equal(api.uploads.length, 1, 'a reload does not upload the file again (permanent material has a quota)')
      assert.deepEqual(outcomes(again)[0].a, { reply: { type: 'image', mediaId: api.uploads[0].mediaId } })
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('a retry that uploads one file of two, its reload refused (a rules file broken meanwhile): the other is still retried', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    // onRecovered only counts: no reload runs resolve again, as when the reload is refused.
    const { uploads, recovered } = setup(api, undefined, undefined, undefined, 100)
    try {
      api.failNext(FAKE_PATHS.addMaterial, 3, 40005)
      const rules = [1, 2].map((n) => `  - name: r${n}\n    keywords: [k${n}]\n    reply: {type: image, file: p${n}.png}\n`).join('')
      await uploads.resolve(await parsed({ 'a/main.yaml': `rules:\n${rules}`, 'a/p1.png': '1', 'a/p2.png': '2' }))
      assert.equal(api.uploads.length, 0)
      const end = Date.now() + 5_000
      while (recovered() < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      assert.equal(api.uploads.length, 2, 'both uploaded in the end')
      assert.equal(recovered(), 2, 'each recovery asks for a reload')
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('a file replaced between the load and its upload (watch off: no reload comes): what is there now is uploaded, kept under its own sha256', async () => {
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const { store, uploads } = setup(api)
    try {
      const files = await parsed({ 'a/main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: image, file: qr.png}\n', 'a/qr.png': 'old' })
      const media = files[0].media[0].media
      await writeFile(media.path, 'new picture')
      await uploads.resolve(files)
      assert.equal(api.uploads.length, 1)
      const [byAccount] = outcomes(files)
      assert.deepEqual(byAccount.a, { reply: { type: 'image', mediaId: api.uploads[0].mediaId } })
      assert.notEqual(api.uploads[0].sha256, media.sha256)
      assert.equal(await store.kv.get(MEDIA_NAMESPACE, `${APPS[0].appId}:${media.sha256}`), undefined, 'not kept under the old bytes\' key')
      assert.equal(((await store.kv.get(MEDIA_NAMESPACE, `${APPS[0].appId}:${api.uploads[0].sha256}`)) as { mediaId: string }).mediaId, api.uploads[0].mediaId)
    } finally {
      uploads.close()
      await api.close()
    }
  })

  it('kept in Redis: a second engine on the same Redis uploads nothing', async () => {
    const redis = await startRedisServer()
    const api = await startFakeWeChatApi({ apps: [APPS[0]] })
    const root = await mkdtemp(join(tmpdir(), 'wxengine-media-redis-'))
    roots.push(root)
    const silent = createMemoryLogger('silent').logger
    const stores = [await openRedisStore({ url: redis.url, dataDir: join(root, 'one'), log: silent }), await openRedisStore({ url: redis.url, dataDir: join(root, 'two'), log: silent })]
    const engines = stores.map((st) => setup(api, undefined, st.kv))
    try {
      const files = () => parsed({ 'a/main.yaml': 'rules:\n  - name: g\n    keywords: [g]\n    reply: {type: image, file: qr.png}\n', 'a/qr.png': 'png' })
      const first = await files()
      await engines[0].uploads.resolve(first)
      const second = await files()
      await engines[1].uploads.resolve(second)
      assert.equal(api.uploads.length, 1, 'the second engine found the media_id in Redis')
      assert.deepEqual(outcomes(second)[0].a, { reply: { type: 'image', mediaId: api.uploads[0].mediaId } })
    } finally {
      for (const e of engines) e.uploads.close()
      for (const st of stores) await st.close()
      await api.close()
      await redis.stop()
    }
  })
})
