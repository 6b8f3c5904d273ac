/**
 * What the platform answers is read before it is trusted: over generated answers (fast-check), JSON of any
 * shape, the fields of each answer with values of the wrong type, and text that is no JSON at all, each
 * reader returns its value, undefined or an error, and never throws. A proxy's error page, a changed API or
 * a hijacked name must fail the call that met it, not the engine or the command.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../support/fast-check.ts'
import { parseApiJson } from '../../core/platform/api-client.ts'
import { parseTemplateList } from '../../core/platform/account-templates.ts'
import { readCreateAnswer } from '../../core/qrcode/qrcode-api.ts'
import { consoleOnlyButtons, fromMenuGet, fromSelfMenuInfo, fromTryMatch, menuToYaml, privateMatchFields } from '../../core/menu/menu-api.ts'
import { parseSince } from '../../core/cli/commands/log.ts'
import type { ApiJson } from '../../core/platform/api-client.ts'

const anyJson = fc.jsonValue({ maxDepth: 4 })
/** What api-client.ts hands a reader: always an object (an answer that is none is refused there). */
const anyObject = fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 5 })
/** An answer with the fields a reader looks for, each holding anything. */
const shaped = (fields: string[]) => fc.dictionary(fc.constantFrom(...fields, 'errcode', 'errmsg'), fc.oneof(anyJson, fc.array(fc.dictionary(fc.constantFrom(...fields), anyJson), { maxLength: 3 })), { maxKeys: 6 })

test('parseApiJson: any text is a value or an Error (the client says "not JSON"), and 64-bit ids keep their digits', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), anyJson.map((v) => JSON.stringify(v))), (text) => {
      try {
        parseApiJson(text)
      } catch (e) {
        // An Error, which the caller (api-client.ts) turns into "answer is not JSON": nothing else escapes.
        assert.ok(e instanceof Error, `threw ${String(e)}`)
      }
    }),
    { numRuns: 3000 },
  )
  fc.assert(
    fc.property(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), (id) => {
      const parsed = parseApiJson(`{"errcode":0,"msgid":${id}}`) as { msgid: unknown }
      assert.equal(String(parsed.msgid), String(id))
    }),
    { numRuns: 500 },
  )
})

test('the template list, QR code and menu answers: any JSON object is read, refused or undefined, never thrown on', () => {
  const templateFields = ['template_list', 'template_id', 'title', 'content', 'primary_industry', 'example']
  const menuFields = ['menu', 'button', 'conditionalmenu', 'matchrule', 'menuid', 'sub_button', 'type', 'name', 'key', 'url', 'selfmenu_info', 'is_menu_open', 'list', 'appid', 'pagepath', 'media_id', 'article_id', 'value', 'news_info', 'tag_id', 'client_platform_type']
  fc.assert(
    fc.property(fc.oneof(anyObject, shaped(templateFields)), (answer) => {
      const r = parseTemplateList(answer as ApiJson)
      if (!r.ok) assert.equal(typeof r.error, 'string')
    }),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(fc.oneof(anyObject, shaped(['ticket', 'expire_seconds', 'url'])), (answer) => {
      readCreateAnswer(answer as ApiJson)
    }),
    { numRuns: 2000 },
  )
  const menuAnswer = fc.oneof(anyObject, shaped(menuFields), shaped(menuFields).map((button) => ({ menu: { button: [button] } })), shaped(menuFields).map((b) => ({ selfmenu_info: { button: [b] } })))
  fc.assert(
    fc.property(menuAnswer, (answer) => {
      const json = answer as never
      const got = fromMenuGet(json)
      fromTryMatch(json)
      const self = fromSelfMenuInfo(json)
      // What menu pull does with what it read: the buttons only the console can make, the private match
      // fields of each conditional menu, and the YAML it writes.
      for (const menu of [got?.menu, self].filter((m) => m !== undefined)) {
        consoleOnlyButtons(menu as never)
        assert.equal(typeof menuToYaml(menu as never), 'string')
      }
      for (const c of got?.conditional ?? []) privateMatchFields(c as never)
      if (got) assert.equal(typeof menuToYaml({ ...got.menu, conditional: got.conditional } as never), 'string')
    }),
    { numRuns: 2000 },
  )
})

test('parseSince (log, followers): any text is a time or undefined, never thrown on', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('7d', '0s', '99999999999999999999d', '2026-13-45', '2026-02-30T25:61', '-1h', '1e3s', 'Infinityh')), (text) => {
      const t = parseSince(text, 1_800_000_000_000)
      if (t !== undefined) assert.ok(Number.isFinite(t), `${JSON.stringify(text)} -> ${t}`)
    }),
    { numRuns: 2000 },
  )
})
