/**
 * What a scan of a parameter QR code gets, asked of the router as menu check asks it about a button: the
 * subscribe push a new follower's scan sends (EventKey qrscene_<scene>) and the SCAN push a follower's sends
 * (EventKey <scene>), normalized and walked without a session; no plugin runs.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { defaultConfig } from '../../core/config/load-config.ts'
import { answersForScene, scanPushFields } from '../../core/qrcode/qrcode-answers.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { cannotUploadFor } from '../../core/platform/media-uploads.ts'
import { loadRuleSet } from '../../core/route/rules/load-rule-set.ts'
import { answerContextOf, type AnswerContext } from '../../core/route/what-answers.ts'

let dir: string
let ctx: AnswerContext
let shopCtx: AnswerContext

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-qrcode-answers-'))
  mkdirSync(path.join(dir, 'shop'))
  writeFileSync(
    path.join(dir, 'main.yaml'),
    `handlers:
  - name: poster-1001
    type: subscribe
    scene: 1001
    reply: {type: text, content: Welcome from the poster}
  - name: scan-1001
    type: scan
    scene: 1001
    plugin: poster
  - type: subscribe
    scene: expo
    plugin: not-there
  - type: scan
    scene: vip
    users: admins
    reply: {type: text, content: hello admin}
welcome:
  reply: {type: text, content: Thanks for following}
default:
  reply: {type: text, content: what?}
`,
  )
  writeFileSync(
    path.join(dir, 'shop', 'shop.yaml'),
    `handlers:
  - name: every-follow
    type: subscribe
    priority: 5
    reply: {type: text, content: shop welcome}
  - name: shop-2002
    type: subscribe
    scene: 2002
    reply: {type: text, content: never reached}
`,
  )
  const loaded = await loadRuleSet(dir, { accounts: ['default', 'shop'], userGroups: { default: ['admins'], shop: [] } })
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors))
  const pluginMissing = (name: string) => (name === 'not-there' ? `plugin "${name}" is not in plugins` : undefined)
  ctx = { account: 'default', rules: loaded.ruleSet, groups: ['admins'], pluginMissing }
  shopCtx = { account: 'shop', rules: loaded.ruleSet, groups: [], pluginMissing }
})
after(() => rmSync(dir, { recursive: true, force: true }))

test('the two pushes are the ones WeChat sends, and normalize to the scene without its prefix', () => {
  const follow = normalizeMessage(scanPushFields('1001', 'subscribe'))
  assert.ok(follow.ok)
  assert.equal(follow.value.kind, 'subscribe')
  assert.equal((follow.value as { eventKey?: string }).eventKey, 'qrscene_1001')
  assert.equal((follow.value as { scene?: string }).scene, '1001')
  const scan = normalizeMessage(scanPushFields('1001', 'scan'))
  assert.ok(scan.ok)
  assert.equal(scan.value.kind, 'scan')
  assert.equal((scan.value as { scene?: string }).scene, '1001')
})

test('a scene with a handler for each push: both answered by it, no warning', () => {
  const a = answersForScene('1001', ctx)
  assert.equal(a.subscribe.line, `a new follower's scan (subscribe, EventKey qrscene_1001): handler "poster-1001" -> reply text`)
  assert.equal(a.scan.line, `a follower's scan (SCAN, EventKey 1001): handler "scan-1001" -> plugin poster; if it passes: no reply (the engine answers "success")`)
  assert.ok(a.subscribe.sceneSpecific && a.scan.sceneSpecific)
  assert.deepEqual(a.warnings, [])
})

test('a scene nothing names: the welcome for a new follower, nothing for a follower; a warning each, with the handler to write', () => {
  const a = answersForScene('spring', ctx)
  assert.equal(a.subscribe.line, `a new follower's scan (subscribe, EventKey qrscene_spring): nothing for this scene: the welcome reply (reply text), as every follow gets`)
  assert.equal(a.scan.line, `a follower's scan (SCAN, EventKey spring): nothing for this scene: no reply (the engine answers "success")`)
  assert.deepEqual(a.warnings, [
    `scene spring: nothing for this scene answers a new follower's scan, who gets the welcome reply (reply text), as every follow gets; a handler {type: subscribe, scene: "spring"} in rules/ answers it`,
    `scene spring: nothing for this scene answers a follower's scan, who gets no reply (the engine answers "success"); a handler {type: scan, scene: "spring"} in rules/ answers it`,
  ])
})

test("a scene handler whose plugin would not run, or only for some users, is no answer; one a generic handler shadows is named", () => {
  const expo = answersForScene('expo', ctx)
  assert.equal(expo.subscribe.sceneSpecific, false)
  assert.match(expo.subscribe.line, /nothing for this scene: the welcome reply \(reply text\), as every follow gets; handler "subscribe:expo@main\.yaml:\d+" -> plugin not-there is skipped: plugin "not-there" is not in plugins$/)
  const vip = answersForScene('vip', ctx)
  assert.equal(vip.scan.sceneSpecific, false)
  assert.match(vip.scan.line, /nothing for this scene: no reply \(the engine answers "success"\); only users in admins get handler "scan:vip@main\.yaml:\d+" -> reply text$/)
  const shop = answersForScene('2002', shopCtx)
  assert.equal(shop.subscribe.sceneSpecific, false)
  assert.equal(shop.subscribe.line, `a new follower's scan (subscribe, EventKey qrscene_2002): nothing for this scene: handler "every-follow" -> reply text, as every follow gets; handler "shop-2002" for this scene is never reached`)
  assert.match(shop.warnings[0]!, /^scene 2002: nothing for this scene answers a new follower's scan, who gets handler "every-follow" -> reply text, as every follow gets; handler "shop-2002" for this scene is never reached: handler "every-follow" answers first \(give it a priority above that one's\)$/)
  // Rules of another account do not count.
  assert.equal(answersForScene('1001', shopCtx).subscribe.sceneSpecific, false)
})

test('numbers and strings compare as text: scene 1001 in the rules answers the scene_id 1001', () => {
  assert.equal(answersForScene('1001', ctx).subscribe.sceneSpecific, true)
})

test('a scene handler answering with a media file, for an account without an appSecret: skipped as the engine skips it (MEDIA_UNAVAILABLE), so neither push is answered for the scene, and each is warned of', async () => {
  const mediaDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-qrcode-media-'))
  try {
    mkdirSync(path.join(mediaDir, 'rules', 'images'), { recursive: true })
    writeFileSync(path.join(mediaDir, 'rules', 'images', 'poster.png'), Buffer.from('89504e470d0a1a0a', 'hex'))
    writeFileSync(
      path.join(mediaDir, 'rules', 'main.yaml'),
      `handlers:
  - name: poster-3003
    type: subscribe
    scene: 3003
    reply: {type: image, file: images/poster.png}
  - name: scan-3003
    type: scan
    scene: 3003
    reply: {type: image, file: images/poster.png}
welcome:
  reply: {type: text, content: Thanks for following}
error:
  reply: {type: text, content: sorry}
`,
    )
    const loaded = await loadRuleSet(path.join(mediaDir, 'rules'), { accounts: ['default'], userGroups: { default: [] } })
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors))
    const config = defaultConfig(mediaDir)
    const account = { id: 'default', token: 't', appId: 'wx0000000000000001', mode: 'plaintext' as const }
    // As qrcode create asks (answerContextOf): with an appSecret the engine uploads the file at its start.
    const uploaded = answersForScene('3003', answerContextOf(config, { ...account, appSecret: 's' }, loaded.ruleSet))
    assert.ok(uploaded.subscribe.sceneSpecific && uploaded.scan.sceneSpecific)
    assert.equal(uploaded.subscribe.line, `a new follower's scan (subscribe, EventKey qrscene_3003): handler "poster-3003" -> reply image (file images/poster.png)`)
    assert.deepEqual(uploaded.warnings, [])

    // Without one it cannot: the handler fails at each scan, and the push goes on to what comes after it.
    const a = answersForScene('3003', answerContextOf(config, account, loaded.ruleSet))
    const why = cannotUploadFor(account)!
    assert.equal(a.subscribe.sceneSpecific, false)
    assert.equal(a.scan.sceneSpecific, false)
    assert.ok(a.subscribe.answer.steps[0]!.fails && a.scan.answer.steps[0]!.fails)
    assert.equal(a.subscribe.line, `a new follower's scan (subscribe, EventKey qrscene_3003): nothing for this scene: the welcome reply (reply text), as every follow gets; handler "poster-3003" -> reply image (file images/poster.png) is skipped: ${why}`)
    assert.equal(a.scan.line, `a follower's scan (SCAN, EventKey 3003): nothing for this scene: no reply (the engine answers "success"); handler "scan-3003" -> reply image (file images/poster.png) is skipped: ${why}`)
    assert.equal(a.warnings.length, 2)
    assert.match(a.warnings[0]!, /^scene 3003: nothing for this scene answers a new follower's scan, who gets the welcome reply \(reply text\), as every follow gets; handler "poster-3003" -> reply image \(file images\/poster\.png\) is skipped: account "default" has no appSecret/)
    assert.match(a.warnings[1]!, /^scene 3003: nothing for this scene answers a follower's scan, who gets no reply \(the engine answers "success"\); handler "scan-3003" -> reply image \(file images\/poster\.png\) is skipped: account "default" has no appSecret/)
  } finally {
    rmSync(mediaDir, { recursive: true, force: true })
  }
})
