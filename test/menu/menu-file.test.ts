import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseMenuFile, shownWidth, toCreateBody } from '../../core/menu/menu-file.ts'

const FILE = 'menus/default.yaml'

function errorsOf(text: string): string[] {
  const r = parseMenuFile(text, FILE)
  assert.equal(r.ok, false, 'expected errors')
  return r.ok ? [] : [...r.errors].sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0)).map((e) => `${e.line}:${e.column}: ${e.message}`)
}

function warningsOf(text: string): string[] {
  const r = parseMenuFile(text, FILE)
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors))
  return r.ok ? r.warnings : []
}

describe('menu file: shape and file:line:col errors', () => {
  test("WeChat's documented example, pasted as YAML, is read and sent back as the same JSON", () => {
    const r = parseMenuFile(
      `button:
  - {type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC}
  - name: 菜单
    sub_button:
      - {type: view, name: 搜索, url: 'http://www.soso.com/'}
      - {type: miniprogram, name: wxa, url: 'http://mp.weixin.qq.com', appid: wx286b93c14bbf93aa, pagepath: pages/lunar/index}
      - {name: 赞一下我们, type: click, key: V1001_GOOD}
`,
      FILE,
    )
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors))
    assert.equal(
      JSON.stringify(toCreateBody(r.menu)),
      '{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"},{"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"http://www.soso.com/"},{"type":"miniprogram","name":"wxa","url":"http://mp.weixin.qq.com","appid":"wx286b93c14bbf93aa","pagepath":"pages/lunar/index"},{"type":"click","name":"赞一下我们","key":"V1001_GOOD"}]}]}',
    )
    assert.deepEqual(r.leaves.map((l) => [l.place.label, l.place.line]), [['"今日歌曲"', 2], ['"菜单" > "搜索"', 5], ['"菜单" > "wxa"', 6], ['"菜单" > "赞一下我们"', 7]])
  })

  test('unknown keys and types are refused at their line and column, with the key or type meant', () => {
    assert.deepEqual(errorsOf('button:\n  - type: click\n    name: A\n    kye: K\n'), [
      '2:5: button "A": key is missing: type click needs key',
      '4:5: button "A": unknown key "kye" for type click (did you mean "key"?); allowed here: type, name, key',
    ])
    assert.deepEqual(errorsOf('button:\n  - type: clik\n    name: A\n    key: K\n'), [
      '2:11: button "A": unknown button type "clik" (did you mean "click"?); types: click, view, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select, media_id, view_limited, miniprogram, article_id, article_view_limited',
    ])
    assert.deepEqual(errorsOf('button:\n  - {type: click, name: A, url: "http://a.example"}\n'), [
      '2:5: button "A": key is missing: type click needs key',
      '2:28: button "A": unknown key "url" for type click; url belongs to type view / miniprogram; allowed here: type, name, key',
    ])
    assert.deepEqual(errorsOf('menu:\n  button: []\n'), [
      "1:1: unknown key \"menu\"; menu/get's answer wraps the menu in menu: {button: ...}: write button: at the top; a menu file has only button:",
      '1:1: button: is missing: the menu is button: with a list of up to 3 buttons (to remove the menu: wxengine menu delete)',
    ])
  })

  test("a console-only type says what to write instead; a numeric key says to quote it", () => {
    assert.match(errorsOf('button:\n  - {type: text, name: A, value: hi}\n')[0]!, /^2:12: button "A": type text is a button made in WeChat's console, which the API cannot create; write type: click with a key/)
    assert.deepEqual(errorsOf('button:\n  - type: click\n    name: A\n    key: 1001\n'), ["4:10: button \"A\": key must be text, got 1001; quote it: key: '1001'"])
  })

  test('fields each type needs; urls are http(s)', () => {
    assert.deepEqual(errorsOf('button:\n  - {type: miniprogram, name: A, url: "https://a.example"}\n'), [
      '2:5: button "A": appid is missing: type miniprogram needs url, appid, pagepath',
      '2:5: button "A": pagepath is missing: type miniprogram needs url, appid, pagepath',
    ])
    assert.deepEqual(errorsOf('button:\n  - {type: view, name: A, url: "javascript:alert(1)"}\n'), ['2:32: button "A": url must be an http:// or https:// address, got "javascript:alert(1)"'])
    assert.deepEqual(errorsOf('button:\n  - {type: media_id, name: A}\n'), ['2:5: button "A": media_id is missing: type media_id needs media_id'])
    assert.deepEqual(errorsOf('button:\n  - {type: click, name: "", key: K}\n'), ['2:25: button "": name is empty'])
  })

  test('a parent button has no type; sub-buttons have no sub_button', () => {
    assert.deepEqual(errorsOf('button:\n  - type: click\n    name: A\n    key: K\n    sub_button:\n      - {type: click, name: B, key: K2}\n'), [
      '5:5: button "A": a button with sub_button: has no type (its sub-buttons have them): remove type:',
    ])
    assert.deepEqual(errorsOf('button:\n  - name: A\n    sub_button:\n      - name: B\n        type: click\n        key: K\n        sub_button: []\n'), [
      '7:9: button "A" > "B": a sub-button cannot have sub_button: (a menu has two levels)',
    ])
    assert.deepEqual(errorsOf('button:\n  - name: A\n    sub_button: []\n'), ['3:17: button "A": sub_button is an empty list: give it 1 to 5 sub-buttons, or make it a button with a type'])
  })
})

describe('menu file: the platform limits', () => {
  const click = (name: string, key: string) => `{type: click, name: '${name}', key: '${key}'}`

  test('at most 3 buttons and 5 sub-buttons, pointed at the first one too many', () => {
    assert.deepEqual(errorsOf(`button:\n${[1, 2, 3, 4].map((i) => `  - ${click(`B${i}`, `K${i}`)}\n`).join('')}`), ['5:5: 4 buttons: a menu has at most 3 (WeChat refuses more with 40016); put the rest under sub_button: of one'])
    assert.deepEqual(errorsOf(`button:\n  - name: P\n    sub_button:\n${[1, 2, 3, 4, 5, 6].map((i) => `      - ${click(`S${i}`, `K${i}`)}\n`).join('')}`), [
      '9:9: button "P": 6 sub-buttons: a button has at most 5 (WeChat refuses more with 40023)',
    ])
    assert.equal(parseMenuFile(`button:\n${[1, 2, 3].map((i) => `  - name: P${i}\n    sub_button:\n${[1, 2, 3, 4, 5].map((j) => `      - ${click(`S${j}`, `K${i}${j}`)}\n`).join('')}`).join('')}`, FILE).ok, true)
    assert.deepEqual(errorsOf('button: []\n'), ['1:9: button is an empty list: a menu has 1 to 3 buttons (to remove the menu: wxengine menu delete)'])
  })

  test('names in UTF-8 bytes as WeChat counts them: 16 at the top, 60 below', () => {
    // Five Chinese characters are 15 bytes: allowed, but wider than the 4 the client shows.
    assert.deepEqual(warningsOf(`button:\n  - ${click('一二三四五', 'K')}\n`), [
      'menus/default.yaml:2:25: button "一二三四五": name is wider than the 4 Chinese characters (8 Latin letters) the client shows on a top-level button: the rest is cut to "..."',
    ])
    assert.deepEqual(warningsOf(`button:\n  - ${click('一二三四', 'K')}\n`), [])
    assert.deepEqual(errorsOf(`button:\n  - ${click('一二三四五六', 'K')}\n`), [
      "2:25: button \"一二三四五六\": name is 18 bytes in UTF-8, over the 16 a top-level button's name may be (a Chinese character is 3); WeChat refuses it with 40018",
    ])
    assert.deepEqual(errorsOf(`button:\n  - ${click('abcdefghijklmnopq', 'K')}\n`).map((e) => e.replace(/:.*?: /, ': ')), [
      "2: button \"abcdefghijklmnopq\": name is 17 bytes in UTF-8, over the 16 a top-level button's name may be (a Chinese character is 3); WeChat refuses it with 40018",
    ])
    const sub = (name: string) => `button:\n  - name: P\n    sub_button:\n      - ${click(name, 'K')}\n`
    assert.equal(warningsOf(sub('一二三四五六七八')).length, 0)
    assert.match(warningsOf(sub('一二三四五六七八九'))[0]!, /name is wider than the 8 Chinese characters \(16 Latin letters\) the client shows on a sub-button/)
    assert.deepEqual(errorsOf(sub('一'.repeat(21))).map((e) => e.replace(/^\d+:\d+: /, '')), [
      `button "P" > "${'一'.repeat(21)}": name is 63 bytes in UTF-8, over the 60 a sub-button's name may be (a Chinese character is 3); WeChat refuses it with 40025`,
    ])
    assert.equal(shownWidth('Ab中'), 2)
  })

  test('keys up to 128 bytes, urls up to 1024', () => {
    assert.equal(parseMenuFile(`button:\n  - ${click('A', 'k'.repeat(128))}\n`, FILE).ok, true)
    assert.deepEqual(errorsOf(`button:\n  - ${click('A', 'k'.repeat(129))}\n`).map((e) => e.replace(/^\d+:\d+: /, '')), ['button "A": key is 129 bytes, over the 128 a key may be (WeChat refuses it with 40019)'])
    assert.deepEqual(errorsOf(`button:\n  - name: P\n    sub_button:\n      - ${click('A', '键'.repeat(43))}\n`).map((e) => e.replace(/^\d+:\d+: /, '')), ['button "P" > "A": key is 129 bytes, over the 128 a key may be (WeChat refuses it with 40026)'])
    const url = `https://a.example/${'x'.repeat(1024 - 18)}`
    assert.equal(parseMenuFile(`button:\n  - {type: view, name: A, url: '${url}'}\n`, FILE).ok, true)
    assert.deepEqual(errorsOf(`button:\n  - name: P\n    sub_button:\n      - {type: view, name: A, url: '${url}x'}\n`).map((e) => e.replace(/^\d+:\d+: /, '')), ['button "P" > "A": url is 1025 bytes, over the 1024 a url may be (WeChat refuses it with 40027)'])
  })

  test('the same key on two buttons is a warning naming both', () => {
    assert.deepEqual(warningsOf(`button:\n  - ${click('A', 'K')}\n  - name: P\n    sub_button:\n      - {type: scancode_push, name: B, key: K}\n`), [
      'menus/default.yaml:5:45: button "P" > "B": key "K" is also the key of button "A": a press of either reaches the same rule, and nothing can tell them apart',
    ])
  })
})
