/**
 * An inline reply naming a file (`reply: {type: image, file: images/qr.png}`): the engine uploads it as
 * permanent material to the (fake) platform when the rules are loaded, keeps the media_id in the store (a real
 * SQLite file), and the reply carries it. One upload per file and account however many rules use it; none after
 * a restart on the same store; a new one when the file changes. A refused upload leaves the engine serving, the
 * rule answering through the error reply with a line naming the file, and the upload retried on a timer.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { loadConfig } from '../../core/config/load-config.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { FAKE_PATHS, startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { createWeChatSimulator, push, type PushFields } from '../../core/testkit/wechat-simulator.ts'
import { keyOfPush } from '../support/message-key.ts'

const APP_ID = 'wxmedia000000001'
const SECRET = 'media-secret'
const ACCOUNT: AccountConfig = { id: 'main', token: 'mediatoken', appId: APP_ID, appSecret: SECRET, mode: 'plaintext' }

/** A tiny but real PNG (1x1), with `salt` in a trailing chunk-free tail so two files differ. */
function png(salt = ''): Buffer {
  const base = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6a3a50000000049454e44ae426082', 'hex')
  return Buffer.concat([base, Buffer.from(salt)])
}

const RULES = `
rules:
  - name: group
    keywords: [group]
    reply: {type: image, file: images/qr.png}
  - name: qun
    keywords: [qun]
    reply: {type: image, file: images/qr.png}
  - name: hello
    keywords: [hello]
    reply: {type: text, content: hi}
error:
  reply: {type: text, content: sorry something broke}
default:
  reply: {type: text, content: say group}
`

interface Project {
  root: string
  rulesDir: string
  start(api: FakeWeChatApi, opts?: { accounts?: AccountConfig[]; mediaRetryFirstMs?: number; watch?: boolean }): Promise<{ runtime: Runtime; lines: Array<Record<string, unknown>> }>
}

const roots: string[] = []
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
})

function project(files: Record<string, string | Buffer>): Project {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-media-'))
  roots.push(root)
  const rulesDir = path.join(root, 'rules')
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(rulesDir, rel)), { recursive: true })
    writeFileSync(path.join(rulesDir, rel), content)
  }
  mkdirSync(path.join(root, 'plugins'), { recursive: true })
  return {
    root,
    rulesDir,
    async start(api, opts = {}) {
      const accounts = opts.accounts ?? [ACCOUNT]
      const loaded = loadConfig({
        root,
        env: {},
        overrides: {
          port: 0,
          host: '127.0.0.1',
          dataDir: path.join(root, 'data'),
          rulesDir,
          pluginsDir: path.join(root, 'plugins'),
          platform: { apiBase: api.baseUrl },
          defaultAccount: accounts[0].id,
          accounts,
          watch: opts.watch ?? false,
        },
      })
      if (!loaded.ok) throw new Error(loaded.error.reason)
      const { logger, lines } = createMemoryLogger('debug')
      const runtime = await startRuntime(loaded.value, { listen: false, log: logger, mediaRetryFirstMs: opts.mediaRetryFirstMs })
      return { runtime, lines }
    },
  }
}

/** A text from u-media, or a push of the test's own (to know its key). */
async function ask(runtime: Runtime, text: string | PushFields, account: AccountConfig = ACCOUNT): Promise<Record<string, unknown> | string> {
  const sim = createWeChatSimulator({ account })
  const req = sim.request(typeof text === 'string' ? push.text('u-media', text) : text)
  const res = await runtime.engine.handle({ method: 'POST', accountId: account.id, query: req.query, body: req.body })
  const opened = sim.openReply(res.body)
  return opened.fields ?? res.body
}

async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('inline replies naming a media file', () => {
  it('uploads the file once for two rules, and the reply carries the media_id the platform gave', async () => {
    const api = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
    const p = project({ 'main.yaml': RULES, 'images/qr.png': png() })
    const { runtime } = await p.start(api)
    try {
      assert.equal(api.uploads.length, 1, 'one upload for the two rules')
      const up = api.uploads[0]
      assert.equal(up.type, 'image')
      assert.equal(up.filename, 'qr.png')
      assert.equal(up.contentType, 'image/png')
      assert.equal(up.bytes, png().length)
      assert.equal(api.requests.find((r) => r.path === FAKE_PATHS.addMaterial)?.query.type, 'image')
      for (const word of ['group', 'qun']) {
        const reply = await ask(runtime, word)
        assert.equal(typeof reply === 'object' && reply.MsgType, 'image', word)
        assert.deepEqual(typeof reply === 'object' && { ...(reply.Image as object) }, { MediaId: up.mediaId }, word)
      }
    } finally {
      await runtime.close()
    }

    // Restarted on the same SQLite file: the media_id comes from the store, nothing is uploaded.
    const again = await p.start(api)
    try {
      assert.equal(api.uploads.length, 1, 'no upload after a restart')
      const reply = await ask(again.runtime, 'group')
      assert.deepEqual(typeof reply === 'object' && { ...(reply.Image as object) }, { MediaId: api.uploads[0].mediaId })

      // The picture changes: the reload uploads it again, and the reply carries the new media_id.
      writeFileSync(path.join(p.rulesDir, 'images/qr.png'), png('new'))
      assert.equal(await again.runtime.reload(), true)
      assert.equal(api.uploads.length, 2, 'a changed file is uploaded again')
      assert.notEqual(api.uploads[1].mediaId, api.uploads[0].mediaId)
      const after = await ask(again.runtime, 'qun')
      assert.deepEqual(typeof after === 'object' && { ...(after.Image as object) }, { MediaId: api.uploads[1].mediaId })

      // Renamed, unchanged: the same sha256, no upload.
      writeFileSync(path.join(p.rulesDir, 'images/renamed.png'), png('new'))
      writeFileSync(path.join(p.rulesDir, 'main.yaml'), RULES.replaceAll('images/qr.png', 'images/renamed.png'))
      assert.equal(await again.runtime.reload(), true)
      assert.equal(api.uploads.length, 2, 'a renamed file is not uploaded again')
    } finally {
      await again.runtime.close()
      await api.close()
    }
  })

  it('a video goes up with its title and introduction; the reply keeps them', async () => {
    const api = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
    const p = project({
      'main.yaml': 'rules:\n  - name: tour\n    keywords: [tour]\n    reply: {type: video, file: media/tour.mp4, title: The tour, description: Five minutes}\n',
      'media/tour.mp4': Buffer.from('not really an mp4, but the fake reads only the name'),
    })
    const { runtime } = await p.start(api)
    try {
      assert.equal(api.uploads.length, 1)
      assert.deepEqual(api.uploads[0].description, { title: 'The tour', introduction: 'Five minutes' })
      assert.equal(api.uploads[0].contentType, 'video/mp4')
      const reply = await ask(runtime, 'tour')
      assert.deepEqual(typeof reply === 'object' && { ...(reply.Video as object) }, { MediaId: api.uploads[0].mediaId, Title: 'The tour', Description: 'Five minutes' })
    } finally {
      await runtime.close()
      await api.close()
    }
  })

  it('a refused upload: the engine serves, the rule answers through the error reply with a line naming the file, and a retry fixes it', async () => {
    const api = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
    api.failNext(FAKE_PATHS.addMaterial, 1, 40005)
    const p = project({ 'main.yaml': RULES, 'images/qr.png': png() })
    const { runtime, lines } = await p.start(api, { mediaRetryFirstMs: 300 })
    try {
      assert.equal(api.uploads.length, 0)
      const failed = lines.find((l) => l.code === 'MEDIA_UNAVAILABLE' && l.level === 50)
      assert.ok(failed, 'a line says the upload failed')
      assert.match(String(failed.msg), /main\.yaml:5:\d+: image file images\/qr\.png not uploaded for account "main": .*errcode 40005/)

      const group = push.text('u-media', 'group')
      const reply = await ask(runtime, group)
      assert.equal(typeof reply === 'object' && reply.Content, 'sorry something broke', 'the error reply answers')
      const line = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('media file images/qr.png unavailable'))
      assert.ok(line, 'a line names the media file')
      assert.equal(line.code, 'MEDIA_UNAVAILABLE')
      // Whose message, and which (it had no key): the line is found with the message's log entry.
      assert.deepEqual([line.account, line.openId, line.key], ['main', 'u-media', keyOfPush('main', group)])
      const hello = await ask(runtime, 'hello')
      assert.equal(typeof hello === 'object' && hello.Content, 'hi', 'the rest of the engine serves')

      // The retry uploads it and reloads; the rule answers with the image.
      await until(async () => {
        const r = await ask(runtime, 'group')
        return typeof r === 'object' && r.MsgType === 'image'
      })
      assert.equal(api.uploads.length, 1)
      // That reload is the rules' alone: the plugins' workers are kept.
      assert.ok(lines.some((l) => l.msg === 'reloaded rules; plugins kept running (no change under plugins/ or in their settings)'), 'the reload kept the plugins')
      const row = (await runtime.store.log.query({ openId: 'u-media' })).find((e) => e.handledBy === 'error')
      assert.match(row?.error ?? '', /^media:images\/qr\.png: MEDIA_UNAVAILABLE: rule "group": image file images\/qr\.png/)
    } finally {
      await runtime.close()
      await api.close()
    }
  })

  it('an account without an appSecret: a load warning, and the rule answers as a failing one does', async () => {
    const api = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
    const p = project({ 'main.yaml': RULES, 'images/qr.png': png() })
    const noSecret: AccountConfig = { id: 'main', token: 'mediatoken', appId: APP_ID, mode: 'plaintext' }
    const { runtime, lines } = await p.start(api, { accounts: [noSecret] })
    try {
      assert.equal(api.requests.length, 0, 'nothing asked of the platform')
      const warning = lines.find((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.includes('cannot be uploaded'))
      assert.ok(warning, 'a load warning')
      assert.match(String(warning.msg), /main\.yaml:5:\d+: image file images\/qr\.png cannot be uploaded: account "main" has no appSecret/)
      const reply = await ask(runtime, 'group', noSecret)
      assert.equal(typeof reply === 'object' && reply.Content, 'sorry something broke')
    } finally {
      await runtime.close()
      await api.close()
    }
  })

  it('a picture under rules/ is watched: replacing it reloads, and the reply carries the new media_id', async () => {
    const api = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
    const p = project({ 'main.yaml': RULES, 'images/qr.png': png() })
    const { runtime } = await p.start(api, { watch: true })
    try {
      assert.equal(api.uploads.length, 1)
      writeFileSync(path.join(p.rulesDir, 'images/qr.png'), png('replaced'))
      await until(() => api.uploads.length === 2)
      await until(async () => {
        const r = await ask(runtime, 'group')
        return typeof r === 'object' && (r.Image as { MediaId?: string } | undefined)?.MediaId === api.uploads[1].mediaId
      })
    } finally {
      await runtime.close()
      await api.close()
    }
  })
  it('a picture outside rules/ is watched too: replacing it reloads; once a rule names another, that one is', async () => {
    const api = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
    const outside = RULES.replaceAll('images/qr.png', '../assets/qr.png')
    const p = project({ 'main.yaml': outside, '../assets/qr.png': png(), '../assets/other.png': png('other') })
    const { runtime } = await p.start(api, { watch: true })
    const mediaIdOf = async (text: string) => {
      const r = await ask(runtime, text)
      return typeof r === 'object' ? (r.Image as { MediaId?: string } | undefined)?.MediaId : undefined
    }
    try {
      assert.equal(api.uploads.length, 1)
      writeFileSync(path.join(p.root, 'assets/qr.png'), png('replaced'))
      await until(() => api.uploads.length === 2)
      await until(async () => (await mediaIdOf('group')) === api.uploads[1].mediaId)

      writeFileSync(path.join(p.rulesDir, 'main.yaml'), outside.replaceAll('../assets/qr.png', '../assets/other.png'))
      await until(() => api.uploads.length === 3)
      await until(async () => (await mediaIdOf('group')) === api.uploads[2].mediaId)
      // The watch of a file added after the start is set up in the background (chokidar says when only once):
      // an edit made before it is in place goes unseen, so the edit is made again until one is seen.
      for (let i = 0; api.uploads.length < 4; i++) {
        assert.ok(i < 20, 'an edit of the newly named file was never seen')
        writeFileSync(path.join(p.root, 'assets/other.png'), png(`other, replaced ${i}`))
        await until(() => api.uploads.length === 4, 500).catch(() => undefined)
      }
      // A slow reload may have seen two of the edits: the rule serves the last one uploaded.
      await until(async () => (await mediaIdOf('group')) === api.uploads.at(-1)!.mediaId)
    } finally {
      await runtime.close()
      await api.close()
    }
  })

  it('a stop while a reload waits on an upload with no answer: the engine stops at once, not after the upload deadline', async () => {
    const api = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
    const p = project({ 'main.yaml': RULES, 'images/qr.png': png() })
    const { runtime, lines } = await p.start(api)
    try {
      assert.equal(api.uploads.length, 1)
      api.hangNext(FAKE_PATHS.addMaterial, 1)
      writeFileSync(path.join(p.rulesDir, 'images/qr.png'), png('new'))
      void runtime.reload()
      await until(() => api.requests.filter((r) => r.path === FAKE_PATHS.addMaterial).length === 2)
      const started = Date.now()
      await runtime.close()
      assert.ok(Date.now() - started < 5_000, `closed in ${Date.now() - started} ms`)
      assert.ok(!lines.some((l) => l.code === 'STORE_UNAVAILABLE'), 'no write to the closed store')
      assert.ok(!lines.some((l) => l.code === 'MEDIA_UNAVAILABLE' && l.level === 50), 'the upload cut by the stop is not reported as a failure')
    } finally {
      await runtime.close()
      await api.close()
    }
  })
})
