import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { answersFor, describeAnswer, type PressContext } from '../../core/menu/menu-answers.ts'
import type { LeafButton } from '../../core/menu/menu-file.ts'
import { loadRuleSet } from '../../core/route/rules/load-rule-set.ts'

let dir: string
let ctx: PressContext
let shopCtx: PressContext
let shortCtx: PressContext

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-menu-answers-'))
  mkdirSync(path.join(dir, 'shop'))
  writeFileSync(
    path.join(dir, 'main.yaml'),
    `rules:
  - name: hello
    keywords: [hello]
    reply: {type: text, content: hi}
  - name: signup
    keywords: [{exact: MENU_SIGNUP, foldCase: false}]
    plugin: signup
  - name: secret
    keywords: [SECRET]
    users: admins
    reply: {type: text, content: for admins}
  - name: gone
    keywords: [GONE]
    plugin: not-there
handlers:
  - name: where
    type: location_select
    key: V_WHERE
    reply: {type: text, content: noted}
  - type: click
    key: V_KEYED
    reply: {type: text, content: keyed}
default:
  reply: {type: text, content: what?}
`,
  )
  writeFileSync(
    path.join(dir, 'shop', 'shop.yaml'),
    `handlers:
  - type: click
    plugin: menu-click
rules:
  - name: shop-only
    keywords: [SHOP_KEY]
    reply: {type: text, content: shop}
`,
  )
  const loaded = await loadRuleSet(dir, { accounts: ['default', 'shop'], userGroups: { default: ['admins'], shop: [] } })
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors))
  const pluginMissing = (name: string) => (name === 'not-there' ? `plugin "${name}" is not in plugins` : undefined)
  ctx = { account: 'default', rules: loaded.ruleSet, groups: ['admins'], pluginMissing }
  shopCtx = { account: 'shop', rules: loaded.ruleSet, groups: [], pluginMissing }
  mkdirSync(path.join(dir, 'short'))
  writeFileSync(path.join(dir, 'short', 'main.yaml'), 'rules:\n  - name: ok\n    keywords: [OK, 你好]\n    reply: {type: text, content: ok}\ndefault:\n  reply: {type: text, content: what?}\n')
  const short = await loadRuleSet(path.join(dir, 'short'), { accounts: ['default'], userGroups: { default: [] } })
  assert.ok(short.ok, short.ok ? '' : JSON.stringify(short.errors))
  shortCtx = { account: 'default', rules: short.ruleSet, groups: [], pluginMissing }
})
after(() => rmSync(dir, { recursive: true, force: true }))

const click = (key: string): LeafButton => ({ type: 'click', name: 'B', key })
const said = (button: LeafButton, c: PressContext = ctx) => describeAnswer(answersFor(button, c)!)

describe('menu check: what answers a press, as the router walks it', () => {
  test("a click's key answered by a text rule (fromClick), inline reply: nothing after it", () => {
    const a = answersFor(click('hello'), ctx)!
    assert.equal(a.answered, true)
    assert.equal(said(click('hello')), 'rule "hello" (keyword "hello") -> reply text')
    // Rules fold case by default, as for typed text.
    assert.equal(said(click('HELLO')), 'rule "hello" (keyword "hello") -> reply text')
  })

  test('a rule with a plugin: the plugin may pass, so what follows is said', () => {
    assert.equal(said(click('MENU_SIGNUP')), 'rule "signup" (keyword "MENU_SIGNUP") -> plugin signup; if it passes: the default reply (reply text)')
  })

  test("a handler with the button's key, and a catch-all click handler (account shop, whose default is main.yaml's, for every account)", () => {
    assert.equal(said(click('V_KEYED')), 'handler "click:V_KEYED@main.yaml:20" -> reply text')
    assert.equal(said({ type: 'location_select', name: 'B', key: 'V_WHERE' }), 'handler "where" -> reply text')
    assert.equal(said(click('ANYTHING'), shopCtx), 'handler "click@shop/shop.yaml:2" -> plugin menu-click; if it passes: the default reply (reply text)')
    assert.equal(said(click('SHOP_KEY'), shopCtx), 'rule "shop-only" (keyword "SHOP_KEY") -> reply text')
  })

  test("unanswered: the default reply for a click; nothing for scancode_push, which gets no default; another account's rule does not count", () => {
    const a = answersFor(click('NOBODY'), ctx)!
    assert.equal(a.answered, false)
    assert.equal(describeAnswer(a), 'nothing answers it: a press gets the default reply (reply text)')
    assert.equal(said({ type: 'scancode_push', name: 'B', key: 'NOBODY' }), 'nothing answers it: a press gets no reply (the engine answers "success")')
    assert.equal(said(click('SHOP_KEY')), 'nothing answers it: a press gets the default reply (reply text)')
  })

  test("only a CLICK's key reaches the text rules: a scancode_waitmsg keyed like a rule's keyword is not answered by it", () => {
    assert.equal(answersFor({ type: 'scancode_waitmsg', name: 'B', key: 'hello' }, ctx)!.answered, false)
  })

  test('a rule for some users only, and a rule whose plugin is missing, do not count as answering', () => {
    assert.equal(said(click('SECRET')), 'nothing answers it: a press gets the default reply (reply text); only users in admins get rule "secret" (keyword "SECRET") -> reply text')
    assert.equal(said(click('GONE')), 'nothing answers it: a press gets the default reply (reply text); rule "gone" (keyword "GONE") -> plugin not-there is skipped: plugin "not-there" is not in plugins')
  })

  test('a key nothing answers, close to one the rules do answer: did you mean it (a keyword a click reaches, a handler key of its type)', () => {
    assert.equal(said(click('helo')), 'nothing answers it (did you mean "hello"?): a press gets the default reply (reply text)')
    assert.equal(said(click('V_KEYD')), 'nothing answers it (did you mean "V_KEYED"?): a press gets the default reply (reply text)')
    assert.equal(said({ type: 'location_select', name: 'B', key: 'V_WHER' }), 'nothing answers it (did you mean "V_WHERE"?): a press gets the default reply (reply text)')
    // Only keys that would answer this button: a location_select's key does not reach the text rules, and a
    // click handler's key is no location_select's; a rule limited to some users answers not everyone.
    assert.equal(said({ type: 'location_select', name: 'B', key: 'helo' }), 'nothing answers it: a press gets the default reply (reply text)')
    assert.equal(said({ type: 'location_select', name: 'B', key: 'V_KEYD' }), 'nothing answers it: a press gets the default reply (reply text)')
    assert.equal(said(click('SECRT')), 'nothing answers it: a press gets the default reply (reply text)')
    assert.equal(answersFor(click('helo'), ctx)!.nearKey, 'hello')
  })

  test('a key far from every key the rules answer gets no hint', () => {
    assert.equal(said(click('TOTALLY_ELSE')), 'nothing answers it: a press gets the default reply (reply text)')
    assert.equal(answersFor(click('TOTALLY_ELSE'), ctx)!.nearKey, undefined)
  })

  test('a short key is not taken for a typo of a key it shares no letter with (every letter replaced)', () => {
    // "QR" is two edits from any two-letter key: "OK" and "你好" are no typo of it.
    assert.equal(said(click('QR'), shortCtx), 'nothing answers it: a press gets the default reply (reply text)')
    assert.equal(said(click('你号'), shortCtx), 'nothing answers it (did you mean "你好"?): a press gets the default reply (reply text)')
  })

  test('buttons whose press carries no key to the engine are not asked about', () => {
    assert.equal(answersFor({ type: 'view', name: 'B', url: 'https://a.example/' }, ctx), undefined)
    assert.equal(answersFor({ type: 'media_id', name: 'B', media_id: 'm' }, ctx), undefined)
  })
})

describe('menu check: a default reply that is a media file the account cannot upload', () => {
  let mediaDir: string
  before(() => {
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-menu-default-media-'))
    writeFileSync(path.join(mediaDir, 'qr.png'), Buffer.from('89504e470d0a1a0a', 'hex'))
    writeFileSync(path.join(mediaDir, 'main.yaml'), 'default:\n  reply: {type: image, file: qr.png}\n')
  })
  after(() => rmSync(mediaDir, { recursive: true, force: true }))

  test('a press gets no reply, as in the engine (router.ts: the failed default is skipped, nothing follows it), not the default reply', async () => {
    const loaded = await loadRuleSet(mediaDir, { accounts: ['default'], userGroups: { default: [] } })
    assert.ok(loaded.ok)
    const a = answersFor(click('ANY'), { account: 'default', rules: loaded.ruleSet, groups: [], pluginMissing: () => undefined, mediaUnavailable: () => 'no appSecret' })!
    assert.equal(a.answered, false)
    assert.equal(describeAnswer(a), 'nothing answers it: a press gets no reply (the engine answers "success"); default reply -> reply image (file qr.png) is skipped: no appSecret')
  })
})

describe('menu check: a rule answering with a media file (reply: {type: image, file: ...})', () => {
  let mediaDir: string
  let rules: PressContext['rules']
  const noSecret = (account: string) => () => `account "${account}" has no appSecret, so the engine cannot upload it`
  before(async () => {
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-menu-media-'))
    mkdirSync(path.join(mediaDir, 'images'))
    mkdirSync(path.join(mediaDir, 'shop'))
    writeFileSync(path.join(mediaDir, 'images', 'qr.png'), Buffer.from('89504e470d0a1a0a', 'hex'))
    writeFileSync(
      path.join(mediaDir, 'main.yaml'),
      `rules:
  - name: qr
    keywords: [QR]
    reply: {type: image, file: images/qr.png}
  - name: qa
    keywords: [QA]
    reply: {type: text, content: questions}
default:
  reply: {type: text, content: what?}
error:
  reply: {type: text, content: sorry}
`,
    )
    writeFileSync(path.join(mediaDir, 'shop', 'shop.yaml'), 'handlers:\n  - type: click\n    plugin: menu-click\n')
    const loaded = await loadRuleSet(mediaDir, { accounts: ['default', 'shop'], userGroups: { default: [], shop: [] } })
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors))
    rules = loaded.ruleSet
  })
  after(() => rmSync(mediaDir, { recursive: true, force: true }))
  const mediaCtx = (account: string, mediaUnavailable?: PressContext['mediaUnavailable']): PressContext => ({ account, rules, groups: [], pluginMissing: () => undefined, ...(mediaUnavailable ? { mediaUnavailable } : {}) })

  test('an account that can upload it: answered by the rule', () => {
    const a = answersFor(click('QR'), mediaCtx('default'))!
    assert.equal(a.answered, true)
    assert.equal(describeAnswer(a), 'rule "qr" (keyword "QR") -> reply image (file images/qr.png)')
  })

  test('an account without an appSecret: skipped as the engine skips it (MEDIA_UNAVAILABLE), so a press gets the error reply, not the default', () => {
    const a = answersFor(click('QR'), mediaCtx('default', noSecret('default')))!
    assert.equal(a.answered, false)
    assert.equal(describeAnswer(a), 'nothing answers it: a press gets the error reply (reply text); rule "qr" (keyword "QR") -> reply image (file images/qr.png) is skipped: account "default" has no appSecret, so the engine cannot upload it')
    assert.ok(a.steps[0]!.fails)
    // QR is a key the rules are written for, not a typo: "QA", one letter off and answered, is not suggested.
    assert.equal(a.nearKey, undefined)
  })

  test('a handler after it answers the press instead; the chain says the rule is skipped, and a plugin passing leads to the error reply', () => {
    const a = answersFor(click('QR'), mediaCtx('shop', noSecret('shop')))!
    assert.equal(a.answered, true)
    assert.ok(a.steps.some((s) => s.fails))
    assert.equal(
      describeAnswer(a),
      'rule "qr" (keyword "QR") -> reply image (file images/qr.png) (skipped: account "shop" has no appSecret, so the engine cannot upload it); then: handler "click@shop/shop.yaml:2" -> plugin menu-click; if it passes: the error reply (reply text)',
    )
  })
})
