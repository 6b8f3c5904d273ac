/**
 * Menu files written as people write them, generated (fast-check): buttons of every type, with their fields,
 * fields of other types, missing or extra; names of any width; sub_button lists of any length; personalized
 * menus with matchrules. Each file is refused with errors naming the file and a line in it, or read; a menu
 * that is read makes the JSON `menu push` sends, and `menu check` asks the rules what answers each button,
 * all without a throw.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import fc from '../support/fast-check.ts'
import { parseMenuFile, toConditionalBody, toCreateBody } from '../../core/menu/menu-file.ts'
import { checkMenuAgainstRules } from '../../core/menu/menu-check.ts'
import { loadConfig } from '../../core/config/load-config.ts'
import { loadRuleSet, ruleSetOptionsOf } from '../../core/route/rules/load-rule-set.ts'
import type { EngineConfig } from '../../core/config/config-types.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
let config: EngineConfig
let rules: Parameters<typeof checkMenuAgainstRules>[4]

before(async () => {
  const loaded = loadConfig({ root: ROOT, env: { WECHAT_TOKEN: 'token123', WECHAT_APPID: 'wx0123456789abcdef' } })
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.reason)
  config = loaded.value
  const set = await loadRuleSet(path.join(ROOT, 'rules'), ruleSetOptionsOf(config))
  assert.ok(set.ok)
  rules = set.ruleSet
})

const TYPES = ['click', 'view', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select', 'media_id', 'view_limited', 'miniprogram', 'article_id', 'article_view_limited', 'nope', '']
const text = fc.oneof(fc.constantFrom('hello', 'survey', 'order', 'news', 'MENU_HELP', 'MENU_HLEP', 'wx0123456789abcdef', '怎么用', ''), fc.string({ unit: 'grapheme', maxLength: 20 }))
/** What each field takes, mostly right. */
const right: Record<string, fc.Arbitrary<string>> = {
  key: fc.constantFrom('hello', 'survey', 'order', 'news', 'MENU_HELP', 'MENU_HLEP', 'SCAN_1'),
  url: fc.constantFrom('https://example.com/a', 'http://mp.weixin.qq.com/'),
  media_id: fc.constantFrom('MEDIA_ID_1', 'abc'),
  appid: fc.constantFrom('wx0123456789abcdef'),
  pagepath: fc.constantFrom('pages/index', 'pages/a?x=1'),
  article_id: fc.constantFrom('ARTICLE_1'),
}
const value = fc.oneof({ weight: 8, arbitrary: text }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) })
const FIELDS: Record<string, string[]> = {
  click: ['key'], view: ['url'], scancode_push: ['key'], scancode_waitmsg: ['key'], pic_sysphoto: ['key'], pic_photo_or_album: ['key'],
  pic_weixin: ['key'], location_select: ['key'], media_id: ['media_id'], view_limited: ['media_id'], miniprogram: ['url', 'appid', 'pagepath'],
  article_id: ['article_id'], article_view_limited: ['article_id'],
}
const shortName = fc.oneof({ weight: 20, arbitrary: fc.constantFrom('你好', '帮助', 'Help', '问卷', 'A') }, { weight: 1, arbitrary: text })
/** A button of a type with its own fields, mostly right; now and then one missing, of another kind, or extra. */
const leaf = fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...TYPES.slice(0, -2)) }, { weight: 1, arbitrary: fc.constantFrom(...TYPES) }).chain((type) =>
  fc.record({
    fields: fc.tuple(...(FIELDS[type] ?? ['key']).map((f) => fc.oneof({ weight: 30, arbitrary: right[f] }, { weight: 1, arbitrary: value }).map((v) => [f, v] as const))),
    name: fc.oneof({ weight: 30, arbitrary: shortName }, { weight: 1, arbitrary: value }),
    drop: fc.nat(60),
    extra: fc.oneof({ weight: 30, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('key', 'url', 'media_id', 'extra', 'sub_button'), value) }),
  }).map(({ fields, name, drop, extra }) => {
    const b: Record<string, unknown> = { type, name, ...Object.fromEntries(fields) }
    if (drop === 0) delete b.name
    if (drop === 1) delete b[(FIELDS[type] ?? ['key'])[0]]
    if (extra) b[extra[0]] = extra[1]
    return b
  }),
)
const parent = fc.record({ name: fc.oneof({ weight: 6, arbitrary: shortName }, { weight: 1, arbitrary: value }), sub_button: fc.oneof({ weight: 20, arbitrary: fc.array(leaf, { minLength: 1, maxLength: 5 }) }, { weight: 1, arbitrary: value }) })
const buttons = fc.array(fc.oneof(leaf, parent), { minLength: 1, maxLength: 3 })
const matchrule = fc.oneof(fc.constant({ tag_id: '100' }), fc.constant({ client_platform_type: '1' }), fc.record({ tag_id: value, client_platform_type: value, sex: value, country: value }, { requiredKeys: [] }))
const menuFile = fc.record(
  { button: fc.oneof({ weight: 30, arbitrary: buttons }, { weight: 1, arbitrary: value }), conditional: fc.array(fc.record({ matchrule, button: buttons }), { maxLength: 2 }) },
  { requiredKeys: ['button'] },
)

test('a generated menu file is refused with errors at its lines, or read, pushed as JSON and checked against the rules; never a throw', () => {
  const seen = { read: 0, refused: 0 }
  fc.assert(
    fc.property(menuFile, (menu) => {
      const yaml = stringify(menu)
      const r = parseMenuFile(yaml, 'menus/default.yaml')
      if (!r.ok) {
        seen.refused++
        const lines = yaml.split('\n').length
        for (const e of r.errors) {
          assert.equal(e.file, 'menus/default.yaml')
          assert.ok(e.line >= 1 && e.line <= lines + 1, `line ${e.line} of ${lines}: ${e.message}`)
          assert.ok(e.message.trim().length > 0)
        }
        return
      }
      seen.read++
      assert.doesNotThrow(() => JSON.stringify(toCreateBody(r.menu)))
      for (const c of r.conditional) assert.doesNotThrow(() => JSON.stringify(toConditionalBody(c)))
      const account = config.accounts.find((a) => a.id === 'default')!
      const check = checkMenuAgainstRules(config, account, 'menus/default.yaml', r, rules)
      assert.ok(check.tree.length > 0)
    }),
    { numRuns: 1500 },
  )
  assert.ok(seen.read > 50 && seen.refused > 50, JSON.stringify(seen))
})
