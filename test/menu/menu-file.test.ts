import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseMenuFile, shownWidth, toConditionalBody, toCreateBody } from '../../core/menu/menu-file.ts'

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

  test("menu/get's documented answer, its menu: taken off, pastes as it is: the sub_button: [] it gives every button with a type is dropped", () => {
    const r = parseMenuFile(
      '{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC","sub_button":[]},{"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"http://www.soso.com/","sub_button":[]},{"type":"click","name":"赞一下我们","key":"V1001_GOOD","sub_button":[]}]}]}\n',
      FILE,
    )
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors))
    assert.equal(
      JSON.stringify(toCreateBody(r.menu)),
      '{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"},{"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"http://www.soso.com/"},{"type":"click","name":"赞一下我们","key":"V1001_GOOD"}]}]}',
    )
    // A list that is not empty is still a third level, or a type on a parent.
    assert.deepEqual(errorsOf('button:\n  - {type: click, name: A, key: K, sub_button: [{type: click, name: B, key: K2}]}\n'), [
      '2:36: button "A": a button with sub_button: has no type (its sub-buttons have them): remove type:',
    ])
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
      "1:1: unknown key \"menu\"; menu/get's answer wraps the menu in menu: {button: ...}: write button: at the top; a menu file has button: and, optionally, conditional:",
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

  test('a control character in a name, key, url, appid or pagepath, or a blank inside a url, is refused (a key of BEL went to menu/create as written)', () => {
    const fix = 'remove it (a YAML escape such as "\\a" or "\\0" writes one)'
    assert.deepEqual(errorsOf('button:\n  - {type: click, name: "a\\0b", key: K}\n'), [`2:25: button "a\\u0000b": name has the control character U+0000 at 2: ${fix}`])
    assert.deepEqual(errorsOf('button:\n  - {type: click, name: A, key: "k\\a"}\n'), [`2:33: button "A": key has the control character U+0007 at 2: ${fix}`])
    assert.deepEqual(errorsOf('button:\n  - {type: view, name: A, url: "https://a.example/\\x85"}\n'), [`2:32: button "A": url has the control character U+0085 at 19: ${fix}`])
    assert.deepEqual(errorsOf('button:\n  - {type: miniprogram, name: A, url: "https://a.example", appid: "wx1\\n", pagepath: p}\n'), [`2:67: button "A": appid has the control character U+000A at 4: ${fix}`])
    assert.deepEqual(errorsOf('button:\n  - {type: view, name: A, url: "https://a.example/a b"}\n'), ['2:32: button "A": url has a space or another blank at 20: a link sends it as is, and browsers end or break the address there; write it percent-encoded (%20)'])
    // Percent-encoded, and text outside ASCII (which the link carries as UTF-8), pass.
    assert.ok(parseMenuFile('button:\n  - {type: view, name: 菜单, url: "https://a.example/a%20b/中文"}\n', FILE).ok)
  })

  test('a parent button has no type; sub-buttons have no sub_button', () => {
    assert.deepEqual(errorsOf('button:\n  - type: click\n    name: A\n    key: K\n    sub_button:\n      - {type: click, name: B, key: K2}\n'), [
      '5:5: button "A": a button with sub_button: has no type (its sub-buttons have them): remove type:',
    ])
    assert.deepEqual(errorsOf('button:\n  - name: A\n    sub_button:\n      - name: B\n        type: click\n        key: K\n        sub_button:\n          - {type: click, name: C, key: K2}\n'), [
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

describe('menu file: personalized menus (conditional:)', () => {
  const DEFAULT = 'button:\n  - {type: click, name: A, key: K}\n'

  test('each entry is a matchrule and a menu checked as the default is; bodies as addconditional takes them, name not sent', () => {
    const r = parseMenuFile(
      `${DEFAULT}conditional:
  - name: vip
    matchrule: {client_platform_type: '2', tag_id: '101'}
    button:
      - {type: click, name: 会员, key: K}
      - name: 更多
        sub_button:
          - {type: view, name: 官网, url: 'https://a.example/'}
  - matchrule: {client_platform_type: '1'}
    button:
      - {type: click, name: iOS, key: IOS}
`,
      FILE,
    )
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors))
    assert.deepEqual(r.conditional.map((c) => [c.label, c.line, c.column]), [['conditional menu "vip"', 4, 5], ['conditional menu 2', 11, 5]])
    assert.equal(
      JSON.stringify(toConditionalBody(r.conditional[0]!)),
      '{"button":[{"type":"click","name":"会员","key":"K"},{"name":"更多","sub_button":[{"type":"view","name":"官网","url":"https://a.example/"}]}],"matchrule":{"tag_id":"101","client_platform_type":"2"}}',
    )
    assert.deepEqual(r.conditional[0]!.leaves.map((l) => [l.place.label, l.place.line]), [['"会员"', 7], ['"更多" > "官网"', 10]])
    // The same key in the default and a personalized menu is the same button in two menus: no warning.
    assert.deepEqual(r.warnings, [])
  })

  test("button errors say which menu they are in, at their place; matchrule errors too", () => {
    assert.deepEqual(errorsOf(`${DEFAULT}conditional:\n  - name: vip\n    matchrule: {tag_id: 101}\n    button:\n      - {type: click, name: B}\n`), [
      "5:25: conditional menu \"vip\": matchrule tag_id must be text (WeChat takes every matchrule value as a string), got 101; quote it: tag_id: '101'",
      '7:9: conditional menu "vip": button "B": key is missing: type click needs key',
    ])
    assert.deepEqual(errorsOf(`${DEFAULT}conditional:\n  - matchrule: {}\n    button: []\n`), [
      '4:16: conditional menu 1: matchrule has no field: give it tag_id or client_platform_type (WeChat refuses an empty one, 65304); the menu for everyone is the default, button:',
      '5:13: conditional menu 1: button is an empty list: a menu has 1 to 3 buttons',
    ])
    assert.deepEqual(errorsOf(`${DEFAULT}conditional:\n  - button:\n      - {type: click, name: B, key: K}\n    menuid: 208379533\n`), [
      '4:5: conditional menu 1: matchrule is missing: it says who sees this menu (tag_id: a user tag\'s id; client_platform_type: \'1\' iOS, \'2\' Android, \'3\' others)',
      '6:5: conditional menu 1: unknown key "menuid": a menuid is what WeChat gives a menu it creates (push prints it), not part of the file; remove it; a personalized menu has name (optional), matchrule and button',
    ])
    assert.deepEqual(errorsOf(`${DEFAULT}conditional:\n  - matchrule: {client_platform_type: '4', tag_id: vip, tagid: '1'}\n    button: [{type: click, name: B, key: K}]\n`), [
      "4:39: conditional menu 1: matchrule client_platform_type must be '1' (iOS), '2' (Android) or '3' (others), got \"4\"",
      '4:52: conditional menu 1: matchrule tag_id must be a tag\'s id, digits (the ids are in tags/get, or in the console\'s 用户管理), got "vip"',
      '4:57: conditional menu 1: unknown matchrule field "tagid" (did you mean "tag_id"?); a matchrule has tag_id and client_platform_type',
    ])
  })

  test('sex, region and language are refused as WeChat refuses them (65320); group_id is the old tag_id', () => {
    const errors = errorsOf(`${DEFAULT}conditional:\n  - matchrule: {sex: '1', group_id: '2'}\n    button: [{type: click, name: B, key: K}]\n`)
    assert.deepEqual(errors, [
      '4:17: conditional menu 1: matchrule sex: WeChat no longer matches personalized menus on sex, region or language (a privacy change of 2021): addconditional refuses a matchrule with sex (65320), and a menu made with one earlier is matched by no one; tag those users and match tag_id instead',
      '4:27: conditional menu 1: matchrule group_id is the old name of tag_id: write tag_id',
    ])
  })

  test('personalized menus need the default; conditional is a list', () => {
    assert.deepEqual(errorsOf("conditional:\n  - matchrule: {tag_id: '2'}\n    button: [{type: click, name: B, key: K}]\n"), [
      '1:1: button: is missing: personalized menus (conditional:) need the default menu, button:, which every user no personalized menu matches sees (WeChat refuses addconditional without one, 65303)',
    ])
    assert.deepEqual(errorsOf(`${DEFAULT}conditional: {tag_id: '2'}\n`), ['3:14: conditional must be a list of personalized menus ({name, matchrule, button}), got a mapping'])
    assert.deepEqual(errorsOf(`${DEFAULT}conditionalmenu: []\n`), [
      "3:1: unknown key \"conditionalmenu\"; menu/get's answer calls the personalized menus conditionalmenu: write them under conditional: (docs/menus.md); a menu file has button: and, optionally, conditional:",
    ])
  })

  test("their links go to at most 3 domains in all (the default's do not count); a repeated matchrule is a warning", () => {
    const view = (name: string, host: string) => `{type: view, name: ${name}, url: 'https://${host}/p'}`
    const text = `button:\n  - ${view('D', 'd.example')}\nconditional:\n  - matchrule: {tag_id: '1'}\n    button: [${view('A', 'a.example')}, ${view('B', 'b.example')}]\n  - matchrule: {tag_id: '2'}\n    button:\n      - ${view('C', 'c.example')}\n      - ${view('A2', 'a.example')}\n      - ${view('E', 'e.example')}\n`
    assert.deepEqual(errorsOf(text), [
      '10:9: conditional menu 2: button "E": its url is on a 4th domain, e.example: the links of all personalized menus together may go to at most 3 domains (a.example, b.example, c.example; each host name counts; WeChat refuses more with 65316)',
    ])
    assert.equal(parseMenuFile(text.replace('e.example', 'b.example'), FILE).ok, true)
    assert.deepEqual(warningsOf(`${DEFAULT}conditional:\n  - name: first\n    matchrule: {tag_id: '2'}\n    button: [{type: click, name: B, key: K}]\n  - name: second\n    matchrule: {tag_id: '2'}\n    button: [{type: click, name: C, key: K}]\n`), [
      'menus/default.yaml:4:5: conditional menu "first": conditional menu "second" (line 7) has the same matchrule and comes later, so WeChat tries it first: this menu is never shown',
    ])
  })
})

test("docs/menus.md's personalized menus example is a valid menu file", async () => {
  const { readFileSync } = await import('node:fs')
  const doc = readFileSync(new URL('../../docs/menus.md', import.meta.url), 'utf8')
  const example = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((y) => y.includes('conditional:'))
  assert.ok(example)
  const r = parseMenuFile(example, 'docs/menus.md')
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors))
  assert.deepEqual(r.conditional.map((c) => JSON.stringify(toConditionalBody(c).matchrule)), ['{"tag_id":"101"}', '{"client_platform_type":"2"}'])
})
