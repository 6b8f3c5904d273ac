/**
 * `wxengine menu ...` as a user runs it: a child process against the real HTTP fake of the platform API
 * (core/testkit/fake-wechat-api.ts) on 127.0.0.1, with menu/create, menu/get, get_current_selfmenu_info and
 * menu/delete added as WeChat answers them.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { createLogger } from '../../core/log/logger.ts'
import { openStore } from '../../core/store/open-store.ts'
import { startFakeWeChatApi, type FakeWeChatApi, type Json, type JsonObject } from '../../core/testkit/fake-wechat-api.ts'
import { MAIN, makeProject, REPO, runCommand, TSX, type Project } from './cli-harness.ts'

const APP_ID = 'wx1111111111111111'
const SECRET = 'menu-secret'

let project: Project
let fake: FakeWeChatApi
/** What the fake holds as the account's menu (menu/create's body), or null. */
let current: JsonObject | null = null
let selfMenu: JsonObject | null = null
let env: NodeJS.ProcessEnv

const MENU_YAML = `button:
  - type: click
    name: 你好
    key: hello
  - name: 更多
    sub_button:
      - {type: view, name: 搜索, url: 'http://www.soso.com/'}
      - {type: click, name: 点我, key: MENU_HELP}
      - {type: miniprogram, name: wxa, url: 'http://mp.weixin.qq.com', appid: wx286b93c14bbf93aa, pagepath: pages/lunar/index}
`
const MENU_JSON =
  '{"button":[{"type":"click","name":"你好","key":"hello"},{"name":"更多","sub_button":[{"type":"view","name":"搜索","url":"http://www.soso.com/"},{"type":"click","name":"点我","key":"MENU_HELP"},{"type":"miniprogram","name":"wxa","url":"http://mp.weixin.qq.com","appid":"wx286b93c14bbf93aa","pagepath":"pages/lunar/index"}]}]}'

const menuFile = () => path.join(project.dir, 'menus', 'default.yaml')
const writeMenu = (text: string) => {
  mkdirSync(path.join(project.dir, 'menus'), { recursive: true })
  writeFileSync(menuFile(), text)
}
const menuRequests = (p: string) => fake.requests.filter((r) => r.path === p)

before(async () => {
  project = makeProject()
  fake = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
  env = { WECHAT_APPSECRET: SECRET, WECHAT_API_BASE: fake.baseUrl }
  let refuseWith: number | undefined
  fake.route('POST', '/cgi-bin/menu/create', ({ body }) => {
    const b = body as JsonObject
    if (typeof b.errcode_for_test === 'number') refuseWith = b.errcode_for_test
    if (refuseWith !== undefined) return { errcode: refuseWith, errmsg: 'refused rid: x' }
    current = b
    return { errcode: 0, errmsg: 'ok' }
  })
  // As WeChat answers: leaf buttons carry an empty sub_button.
  fake.route('GET', '/cgi-bin/menu/get', (): JsonObject => {
    if (!current) return { errcode: 46003, errmsg: 'menu no exist rid: x' }
    const withEmpty = (b: Json): Json => {
      const o = b as JsonObject
      return Array.isArray(o.sub_button) ? { ...o, sub_button: o.sub_button.map((s) => ({ ...(s as JsonObject), sub_button: [] })) } : { ...o, sub_button: [] }
    }
    return { menu: { button: (current.button as Json[]).map(withEmpty), menuid: 208396938 } }
  })
  fake.route('GET', '/cgi-bin/get_current_selfmenu_info', () =>
    selfMenu ?? (current ? { is_menu_open: 1, selfmenu_info: current } : { is_menu_open: 0 }),
  )
  fake.route('GET', '/cgi-bin/menu/delete', () => {
    current = null
    return { errcode: 0, errmsg: 'ok' }
  })
  Object.assign(fake, { refuse: (code: number | undefined) => (refuseWith = code) })
})
after(async () => {
  await fake.close()
  project.remove()
})
beforeEach(() => {
  current = null
  selfMenu = null
  ;(fake as unknown as { refuse(c: number | undefined): void }).refuse(undefined)
  rmSync(path.join(project.dir, 'menus'), { recursive: true, force: true })
})

describe('wxengine menu check', () => {
  test('a tree of the buttons with what answers each; a button nothing answers is a warning, which --strict fails', async () => {
    writeMenu(MENU_YAML)
    const r = await project.run(['menu', 'check'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      `menus/default.yaml: ok, 2 buttons, 3 sub-buttons (account default)
  你好  click hello: rule "hello" (keyword "hello") -> reply text
  更多
    搜索  view http://www.soso.com/
    点我  click MENU_HELP: handler "click@main.yaml:11" -> reply text
    wxa  miniprogram http://mp.weixin.qq.com (wx286b93c14bbf93aa pages/lunar/index)
`,
    )
    writeMenu('button:\n  - {type: scancode_push, name: 扫一扫, key: SCAN}\n')
    const warned = await project.run(['menu', 'check'])
    assert.equal(warned.code, 0, warned.stderr)
    assert.match(warned.stdout, /^warning: menus\/default\.yaml:2:5: button "扫一扫" \(scancode_push, key "SCAN"\): nothing answers it: a press gets no reply \(the engine answers "success"\)$/m)
    const strict = await project.run(['menu', 'check', '--strict'])
    assert.equal(strict.code, 1)
    assert.equal(strict.stderr, '1 warning, which --strict counts as failures\n')
  })

  test('errors are file:line:col and exit 1; a missing file says how to make one; a menu file for no account is a warning', async () => {
    writeMenu('button:\n  - {type: click, name: 一二三四五六, key: K}\n')
    const r = await project.run(['menu', 'check'])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, "menus/default.yaml:2:25: button \"一二三四五六\": name is 18 bytes in UTF-8, over the 16 a top-level button's name may be (a Chinese character is 3); WeChat refuses it with 40018\n")
    assert.equal(r.stderr, '1 error in menus/default.yaml; WeChat would refuse this menu\n')
    rmSync(menuFile())
    const missing = await project.run(['menu', 'check', '--account', 'safe'])
    assert.equal(missing.code, 1)
    assert.equal(missing.stderr, 'wxengine menu: menus/safe.yaml does not exist: write the menu there (docs/menus.md), or take the account\'s current one with: wxengine menu pull --account safe\n')
    writeMenu('button:\n  - {type: click, name: A, key: hello}\n')
    writeFileSync(path.join(project.dir, 'menus', 'sfae.yaml'), 'button: []\n')
    const stray = await project.run(['menu', 'check'])
    assert.match(stray.stdout, /^warning: menus\/sfae\.yaml: a menu for account "sfae", which is not configured \(did you mean "safe"\?\) \(accounts: default, safe\): it is never pushed$/m)
    const unknown = await project.run(['menu', 'check', '--account', 'nope'])
    assert.equal(unknown.code, 2)
  })
})

describe('the shipped example', () => {
  test('menus/default.yaml passes menu check --strict against rules/default.yaml and plugins/: every button answered', async () => {
    const r = await runCommand(process.execPath, ['--import', TSX, MAIN, 'menu', 'check', '--strict'], { cwd: REPO, env: { PATH: process.env.PATH, HOME: process.env.HOME } })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.doesNotMatch(r.stdout, /warning|nothing answers/)
    assert.match(r.stdout, /^ {4}怎么用 {2}click MENU_HELP: handler "click@default\.yaml:\d+" -> plugin menu-click/m)
  })
})

describe('wxengine menu push', () => {
  test('sends exactly the JSON menu/create takes, with the access_token the store shares: a second run fetches none', async () => {
    writeMenu(MENU_YAML)
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'menus/default.yaml: pushed, 2 buttons, 3 sub-buttons (account default)\n')
    const [create] = menuRequests('/cgi-bin/menu/create')
    assert.equal(JSON.stringify(create!.body), MENU_JSON)
    assert.equal(create!.query.access_token, fake.issuedTokens[0])
    assert.equal(fake.tokenRequests, 1)
    // A running engine reads the token from the same store: a second command (another process) uses it.
    const again = await project.run(['menu', 'push'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.equal(fake.tokenRequests, 1)
    assert.equal(menuRequests('/cgi-bin/menu/create')[1]!.query.access_token, fake.issuedTokens[0])
  })

  test("the token an engine keeps in the project's store is the one used: the command fetches none of its own", async () => {
    writeMenu(MENU_YAML)
    // What a running engine did: fetched a token and put it in the store (access-token-manager.ts).
    const answer = (await (await fetch(`${fake.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${APP_ID}&secret=${SECRET}`)).json()) as { access_token: string }
    const store = await openStore({ kind: 'sqlite' }, project.dataDir, createLogger({ level: 'silent' }))
    try {
      await store.tokens.set(APP_ID, { token: answer.access_token, expiresAt: Date.now() + 7_200_000 })
    } finally {
      await store.close()
    }
    const fetched = fake.tokenRequests
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(menuRequests('/cgi-bin/menu/create').at(-1)!.query.access_token, answer.access_token)
    assert.equal(fake.tokenRequests, fetched)
  })

  test('--dry-run prints that JSON and sends nothing, with no appSecret needed', async () => {
    writeMenu(MENU_YAML)
    const before = fake.requests.length
    const r = await project.run(['menu', 'push', '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(MENU_JSON))
    assert.equal(fake.requests.length, before)
  })

  test("a refusal says the errcode in plain words and the button it is likely about", async () => {
    writeMenu(MENU_YAML)
    ;(fake as unknown as { refuse(c: number): void }).refuse(40055)
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 1)
    assert.equal(
      r.stderr,
      'wxengine menu push: WeChat refused it with errcode 40055: a sub-button\'s url has a domain WeChat refuses (a bad or blocked domain; a miniprogram\'s url must be a web page too); probably one of the buttons "更多" > "搜索" (line 7), "更多" > "wxa" (line 9) (POST /cgi-bin/menu/create: errcode 40055 refused rid: x)\n',
    )
    ;(fake as unknown as { refuse(c: number): void }).refuse(40025)
    const named = await project.run(['menu', 'push'], { env })
    assert.match(named.stderr, /errcode 40025: a sub-button name is too long \(60 bytes\); probably button "更多" > "搜索" \(line 7\), 6 bytes/)
  })

  test('an invalid file is not sent', async () => {
    writeMenu('button:\n  - {type: click, name: A}\n')
    const sent = fake.requests.length
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 1)
    assert.equal(r.stdout, 'menus/default.yaml:2:5: button "A": key is missing: type click needs key\n')
    assert.equal(fake.requests.length, sent)
  })

  test('no appSecret: says which setting to set, and calls nothing', async () => {
    writeMenu(MENU_YAML)
    const r = await project.run(['menu', 'push'], { env: { WECHAT_API_BASE: fake.baseUrl } })
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'wxengine menu push: account "default" has no appSecret, and the menu API needs an access_token: set WECHAT_APPSECRET, or the appSecret of account "default" in engine.config.ts (mp.weixin.qq.com, 设置与开发 > 基本配置 > AppSecret)\n',
    )
    const safe = await project.run(['menu', 'show', '--account', 'safe'], { env: { WECHAT_API_BASE: fake.baseUrl } })
    assert.match(safe.stderr, /account "safe" has no appSecret, .*: set the appSecret of account "safe" in engine.config.ts/)
  })
})

describe('wxengine menu show / pull / delete', () => {
  test('pull writes the menu WeChat has; pushing the pulled file sends the same JSON', async () => {
    writeMenu(MENU_YAML)
    assert.equal((await project.run(['menu', 'push'], { env })).code, 0)
    rmSync(menuFile())
    const shown = await project.run(['menu', 'show'], { env })
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /^button:\n {2}- type: click\n {4}name: 你好\n {4}key: hello\n/)
    const pulled = await project.run(['menu', 'pull'], { env })
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.equal(pulled.stdout, 'menus/default.yaml: written, 2 buttons\n')
    assert.doesNotMatch(readFileSync(menuFile(), 'utf8'), /sub_button: \[\]/)
    current = null
    const pushed = await project.run(['menu', 'push'], { env })
    assert.equal(pushed.code, 0, pushed.stderr)
    assert.equal(JSON.stringify(menuRequests('/cgi-bin/menu/create').at(-1)!.body), MENU_JSON)
    const refused = await project.run(['menu', 'pull'], { env })
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /menus\/default\.yaml exists; to replace it with the account's current menu, add --force/)
    assert.equal((await project.run(['menu', 'pull', '--force'], { env })).code, 0)
  })

  test('no menu: show says so; a menu made in the console comes from get_current_selfmenu_info, its console-only buttons marked', async () => {
    const none = await project.run(['menu', 'show'], { env })
    assert.equal(none.code, 0, none.stderr)
    assert.equal(none.stdout, 'no menu: account default has none\n')
    selfMenu = {
      is_menu_open: 1,
      selfmenu_info: {
        button: [
          { type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' },
          { name: '菜单', sub_button: { list: [{ type: 'view', name: '搜索', url: 'http://www.soso.com/' }, { type: 'text', name: '文本', value: '你好' }] } },
        ],
      },
    }
    const shown = await project.run(['menu', 'show'], { env })
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stderr, /made in the console/)
    const pulled = await project.run(['menu', 'pull'], { env })
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.match(pulled.stderr, /button "菜单" > "文本" is of a type only the console makes/)
    const text = readFileSync(menuFile(), 'utf8')
    assert.match(text, /sub_button:\n {6}- type: view\n {8}name: 搜索\n {8}url: http:\/\/www.soso.com\/\n {6}# made in the console \(type text\)/)
    // The file says what to change; check refuses it until then.
    const check = await project.run(['menu', 'check'])
    assert.equal(check.code, 1)
    assert.match(check.stdout, /button "菜单" > "文本": type text is a button made in WeChat's console/)
  })

  test('delete needs --yes', async () => {
    current = JSON.parse(MENU_JSON) as JsonObject
    const sent = fake.requests.length
    const refused = await project.run(['menu', 'delete'], { env })
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /add --yes to do it/)
    assert.equal(fake.requests.length, sent)
    const r = await project.run(['menu', 'delete', '--yes'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(menuRequests('/cgi-bin/menu/delete').length, 1)
    assert.equal(current, null)
    assert.equal(existsSync(menuFile()), false)
  })
})
