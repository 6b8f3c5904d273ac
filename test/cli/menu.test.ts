/**
 * `wxengine menu ...` as a user runs it: a child process against the real HTTP fake of the platform API
 * (core/testkit/fake-wechat-api.ts) on 127.0.0.1, with menu/create, menu/get, get_current_selfmenu_info,
 * menu/delete, menu/addconditional, menu/delconditional and menu/trymatch added as WeChat answers them.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { storeEngineToken } from '../support/engine-token.ts'
import { startFakeWeChatApi, type FakeWeChatApi, type Json, type JsonObject } from '../../core/testkit/fake-wechat-api.ts'
import { MAIN, makeProject, REPO, runCommand, TSX, type Project } from './cli-harness.ts'

const APP_ID = 'wx1111111111111111'
const SECRET = 'menu-secret'

let project: Project
let fake: FakeWeChatApi
/** What the fake holds as the account's menu (menu/create's body), or null. */
let current: JsonObject | null = null
let selfMenu: JsonObject | null = null
/** The account's personalized menus, oldest first: addconditional's body and the menuid it got. */
let conditional: { menuid: number; body: JsonObject }[] = []
let nextMenuId = 208379533
/** addconditional requests (counted from the test's start) refused: number -> errcode. */
let refuseAdd = new Map<number, number>()
let adds = 0
/** delconditional requests refused, as refuseAdd. */
let refuseDel = new Map<number, number>()
let dels = 0
/** The tag of each user trymatch knows. */
const userTags: Record<string, string> = { 'o-vip': '101', 'o-plain': '7' }
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
  const withEmpty = (b: Json): Json => {
    const o = b as JsonObject
    return Array.isArray(o.sub_button) ? { ...o, sub_button: o.sub_button.map((s) => ({ ...(s as JsonObject), sub_button: [] })) } : { ...o, sub_button: [] }
  }
  fake.route('GET', '/cgi-bin/menu/get', (): JsonObject => {
    if (!current) return { errcode: 46003, errmsg: 'menu no exist rid: x' }
    const answer: JsonObject = { menu: { button: (current.button as Json[]).map(withEmpty), menuid: 208396938 } }
    // As WeChat's documented example: numeric matchrule values as numbers, the menuid a number.
    const asGot = (rule: JsonObject): JsonObject => Object.fromEntries(Object.entries(rule).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v]))
    if (conditional.length > 0) answer.conditionalmenu = conditional.map((c) => ({ button: (c.body.button as Json[]).map(withEmpty), matchrule: asGot(c.body.matchrule as JsonObject), menuid: c.menuid }))
    return answer
  })
  fake.route('POST', '/cgi-bin/menu/addconditional', ({ body }): JsonObject => {
    const b = body as JsonObject
    const refused = refuseAdd.get(++adds)
    if (refused !== undefined) return { errcode: refused, errmsg: 'refused rid: x' }
    if (!current) return { errcode: 65303, errmsg: 'there is no selfmenu rid: x' }
    const rule = b.matchrule as JsonObject | undefined
    if (!rule || Object.keys(rule).length === 0) return { errcode: 65304, errmsg: 'match rule empty rid: x' }
    if (['sex', 'country', 'province', 'city', 'language'].some((k) => k in rule)) return { errcode: 65320, errmsg: 'invalid matchrule rid: x' }
    const menuid = nextMenuId++
    conditional.push({ menuid, body: b })
    return { menuid: String(menuid) }
  })
  fake.route('POST', '/cgi-bin/menu/delconditional', ({ body }): JsonObject => {
    const id = Number((body as JsonObject).menuid)
    const refused = refuseDel.get(++dels)
    if (refused !== undefined) return { errcode: refused, errmsg: 'system error rid: x' }
    if (!conditional.some((c) => c.menuid === id)) return { errcode: 65301, errmsg: 'menuid not exist rid: x' }
    conditional = conditional.filter((c) => c.menuid !== id)
    return { errcode: 0, errmsg: 'ok' }
  })
  // The newest personalized menu whose tag_id is the user's, else the default.
  fake.route('POST', '/cgi-bin/menu/trymatch', ({ body }): JsonObject => {
    const tag = userTags[String((body as JsonObject).user_id)]
    if (tag === undefined) return { errcode: 65302, errmsg: 'no such user rid: x' }
    if (!current) return { errcode: 46003, errmsg: 'menu no exist rid: x' }
    const hit = [...conditional].reverse().find((c) => (c.body.matchrule as JsonObject).tag_id === tag)
    return { button: ((hit ? hit.body : current).button as Json[]).map(withEmpty) }
  })
  fake.route('GET', '/cgi-bin/get_current_selfmenu_info', () =>
    selfMenu ?? (current ? { is_menu_open: 1, selfmenu_info: current } : { is_menu_open: 0 }),
  )
  fake.route('GET', '/cgi-bin/menu/delete', () => {
    current = null
    conditional = []
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
  conditional = []
  refuseAdd = new Map()
  nextMenuId = 208379533
  adds = 0
  refuseDel = new Map()
  dels = 0
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

  test('a rule answering with a media file, for an account without an appSecret: the engine cannot upload it, so the check warns, naming the button, the rule and why', async () => {
    mkdirSync(path.join(project.dir, 'rules', 'images'), { recursive: true })
    writeFileSync(path.join(project.dir, 'rules', 'images', 'qr.png'), Buffer.from('89504e470d0a1a0a', 'hex'))
    writeFileSync(path.join(project.dir, 'rules', 'media.yaml'), 'rules:\n  - name: qr\n    keywords: [QR]\n    reply: {type: image, file: images/qr.png}\n')
    try {
      writeMenu('button:\n  - {type: click, name: 二维码, key: QR}\n')
      const r = await project.run(['menu', 'check', '--strict'])
      assert.equal(r.code, 1, r.stdout + r.stderr)
      // The fixture's catch-all click handler answers the press instead of the picture.
      assert.match(
        r.stdout,
        /^warning: menus\/default\.yaml:2:5: button "二维码" \(click, key "QR"\): rule "qr" \(keyword "QR"\) -> reply image \(file images\/qr\.png\) \(skipped: account "default" has no appSecret, so the engine cannot upload it \(set WECHAT_APPSECRET or the account's appSecret, or write the rule with a mediaId\)\); then: handler "click@main\.yaml:11" -> reply text$/m,
      )
      assert.equal(r.stderr, '1 warning, which --strict counts as failures\n')
      // With the appSecret the engine uploads it at its start: the rule answers.
      const ok = await project.run(['menu', 'check', '--strict'], { env: { WECHAT_APPSECRET: SECRET } })
      assert.equal(ok.code, 0, ok.stdout + ok.stderr)
      assert.match(ok.stdout, /^ {2}二维码 {2}click QR: rule "qr" \(keyword "QR"\) -> reply image \(file images\/qr\.png\)$/m)
    } finally {
      rmSync(path.join(project.dir, 'rules', 'media.yaml'))
      rmSync(path.join(project.dir, 'rules', 'images'), { recursive: true })
    }
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
    assert.equal(missing.stderr, 'wxengine menu: menus/safe.yaml does not exist: write the menu there (.wxengine/docs/menus.md, which wxengine init writes), or take the account\'s current one with: wxengine menu pull --account safe\n')
    // The docs page as the project has it: init's copy once there is one (the fixture has no docs at all).
    mkdirSync(path.join(project.dir, '.wxengine', 'docs'), { recursive: true })
    writeFileSync(path.join(project.dir, '.wxengine', 'docs', 'menus.md'), '# Menus\n')
    try {
      const named = await project.run(['menu', 'check', '--account', 'safe'])
      assert.match(named.stderr, /^wxengine menu: menus\/safe\.yaml does not exist: write the menu there \(\.wxengine\/docs\/menus\.md\), or take/)
    } finally {
      rmSync(path.join(project.dir, '.wxengine'), { recursive: true, force: true })
    }
    // The menu written as .yml: named, rather than "does not exist" beside it.
    writeFileSync(path.join(project.dir, 'menus', 'safe.yml'), 'button: []\n')
    const yml = await project.run(['menu', 'check', '--account', 'safe'])
    assert.equal(yml.code, 1)
    assert.equal(yml.stderr, 'wxengine menu: menus/safe.yaml does not exist, but menus/safe.yml does: rename it to safe.yaml (wxengine menu reads .yaml only)\n')
    rmSync(path.join(project.dir, 'menus', 'safe.yml'))
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
    const answer = { access_token: await storeEngineToken(fake.baseUrl, project.dataDir, APP_ID, SECRET) }
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

  test('a store that does not open (where the token is shared): a failure (exit 1), not a usage error, and nothing called', async () => {
    writeMenu(MENU_YAML)
    const notADir = path.join(project.dir, 'data-is-a-file')
    writeFileSync(notADir, '')
    const sent = fake.requests.length
    const r = await project.run(['menu', 'push'], { env: { ...env, DATA_DIR: notADir } })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /wxengine menu push: cannot open the sqlite store, where the access_token is shared with the engine: /)
    assert.equal(fake.requests.length, sent)
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

  test("pull's comment names the docs from the menu file's folder, wherever the command ran (-C from another folder)", async () => {
    writeMenu(MENU_YAML)
    assert.equal((await project.run(['menu', 'push'], { env })).code, 0)
    rmSync(menuFile())
    mkdirSync(path.join(project.dir, '.wxengine', 'docs'), { recursive: true })
    writeFileSync(path.join(project.dir, '.wxengine', 'docs', 'menus.md'), '# Menus\n')
    // The project's parent: a path from there (`wxengine-cli-x/.wxengine/...`) names nothing from menus/.
    const pulled = await project.run(['menu', 'pull', '-C', project.dir], { env, cwd: path.dirname(project.dir) })
    assert.equal(pulled.code, 0, pulled.stderr)
    const named = /send it with wxengine menu push \(([^)]+)\)/.exec(readFileSync(menuFile(), 'utf8'))?.[1]
    assert.equal(named, path.join('..', '.wxengine', 'docs', 'menus.md'))
    assert.ok(existsSync(path.resolve(path.dirname(menuFile()), named)))
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

  test("no access_token to be had (/cgi-bin/token's daily quota, 45009) is said as the token API's, not as the menu API's quota used up", async () => {
    current = JSON.parse(MENU_JSON) as JsonObject
    fake.expireToken()
    fake.failNext('/cgi-bin/token', 1, 45009, 'reach max api daily quota limit')
    const r = await project.run(['menu', 'delete', '--yes'], { env })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^wxengine menu delete: GET \/cgi-bin\/token: errcode 45009 reach max api daily quota limit rid: \S+ \(the daily quota of \/cgi-bin\/token is used up/)
    assert.doesNotMatch(r.stderr, /WeChat refused it|addconditional/)
    assert.notEqual(current, null, 'nothing deleted')
  })
})

const COND_YAML = `${MENU_YAML}conditional:
  - name: vip
    matchrule: {tag_id: '101'}
    button:
      - {type: click, name: 会员, key: hello}
      - {type: view, name: 官网, url: 'https://vip.example/'}
  - name: android
    matchrule: {client_platform_type: '2'}
    button:
      - {type: scancode_push, name: 扫一扫, key: SCAN}
`
const VIP_JSON = '{"button":[{"type":"click","name":"会员","key":"hello"},{"type":"view","name":"官网","url":"https://vip.example/"}],"matchrule":{"tag_id":"101"}}'
const ANDROID_JSON = '{"button":[{"type":"scancode_push","name":"扫一扫","key":"SCAN"}],"matchrule":{"client_platform_type":"2"}}'
/** The menu requests after `from`, as `METHOD path body`. */
const menuCalls = (from: number) =>
  fake.requests.slice(from).filter((r) => r.path.startsWith('/cgi-bin/menu/')).map((r) => `${r.method} ${r.path}${r.body !== undefined ? ` ${JSON.stringify(r.body)}` : ''}`)

describe('personalized menus (conditional:)', () => {
  test('check: each personalized menu under its heading, its buttons asked of the rules as the default\'s; warnings name the menu', async () => {
    writeMenu(COND_YAML)
    const r = await project.run(['menu', 'check'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      `menus/default.yaml: ok, 2 buttons, 3 sub-buttons, 2 personalized menus (account default)
  你好  click hello: rule "hello" (keyword "hello") -> reply text
  更多
    搜索  view http://www.soso.com/
    点我  click MENU_HELP: handler "click@main.yaml:11" -> reply text
    wxa  miniprogram http://mp.weixin.qq.com (wx286b93c14bbf93aa pages/lunar/index)
conditional menu "vip" (tag_id 101):
  会员  click hello: rule "hello" (keyword "hello") -> reply text
  官网  view https://vip.example/
conditional menu "android" (client_platform_type 2 (Android)):
  扫一扫  scancode_push SCAN: nothing answers it: a press gets no reply (the engine answers "success")
warning: menus/default.yaml:19:9: conditional menu "android": button "扫一扫" (scancode_push, key "SCAN"): nothing answers it: a press gets no reply (the engine answers "success")
`,
    )
  })

  test('push: menu/create, then the personalized menus the account had deleted by menuid, then the file\'s created in file order; menuids reported', async () => {
    current = JSON.parse(MENU_JSON) as JsonObject
    conditional = [
      { menuid: 100, body: { button: [{ type: 'click', name: 'old', key: 'OLD' }], matchrule: { tag_id: '9' } } },
      { menuid: 101, body: { button: [{ type: 'click', name: 'old2', key: 'OLD' }], matchrule: { tag_id: '8' } } },
    ]
    writeMenu(COND_YAML)
    const from = fake.requests.length
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(menuCalls(from), [
      `POST /cgi-bin/menu/create ${MENU_JSON}`,
      'GET /cgi-bin/menu/get',
      'POST /cgi-bin/menu/delconditional {"menuid":"100"}',
      'POST /cgi-bin/menu/delconditional {"menuid":"101"}',
      `POST /cgi-bin/menu/addconditional ${VIP_JSON}`,
      `POST /cgi-bin/menu/addconditional ${ANDROID_JSON}`,
    ])
    assert.equal(
      r.stdout,
      `menus/default.yaml: pushed, 2 buttons, 3 sub-buttons (account default)
deleted 2 personalized menus the account had (menuid 100, 101)
conditional menu "vip" (tag_id 101): created, menuid 208379533
conditional menu "android" (client_platform_type 2 (Android)): created, menuid 208379534
`,
    )
    assert.deepEqual(conditional.map((c) => c.menuid), [208379533, 208379534])
    // A file without conditional: makes the account's personalized menus none.
    writeMenu(MENU_YAML)
    const again = await project.run(['menu', 'push'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /^deleted 2 personalized menus the account had \(menuid 208379533, 208379534\)$/m)
    assert.deepEqual(conditional, [])
  })

  test('--dry-run prints every body in order, sends nothing', async () => {
    writeMenu(COND_YAML)
    const before = fake.requests.length
    const r = await project.run(['menu', 'push', '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(fake.requests.length, before)
    const parts = r.stdout.split(/^(POST \S+.*)$/m).filter((p) => p.trim() !== '')
    assert.deepEqual(parts.filter((_, i) => i % 2 === 0), ['POST /cgi-bin/menu/create', 'POST /cgi-bin/menu/addconditional  (conditional menu "vip")', 'POST /cgi-bin/menu/addconditional  (conditional menu "android")'])
    assert.deepEqual(parts.filter((_, i) => i % 2 === 1).map((j) => JSON.stringify(JSON.parse(j))), [MENU_JSON, VIP_JSON, ANDROID_JSON])
    assert.match(r.stderr, /deletes the account's current personalized menus \(GET \/cgi-bin\/menu\/get, then POST \/cgi-bin\/menu\/delconditional/)
  })

  test('an addconditional refused midway says what the account has now and how to finish; push again does', async () => {
    writeMenu(COND_YAML)
    refuseAdd.set(2, 45009)
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 1)
    assert.equal(r.stdout, 'menus/default.yaml: pushed, 2 buttons, 3 sub-buttons (account default)\nconditional menu "vip" (tag_id 101): created, menuid 208379533\n')
    assert.equal(
      r.stderr,
      `warning: menus/default.yaml:19:9: conditional menu "android": button "扫一扫" (scancode_push, key "SCAN"): nothing answers it: a press gets no reply (the engine answers "success")
wxengine menu push: conditional menu "android" (line 16) was not created (POST /cgi-bin/menu/addconditional): WeChat refused it with errcode 45009: the API's daily quota is used up (addconditional and delconditional: 2000 a day each); it renews the next day, or clear it in the console (接口权限) or with clear_quota (POST /cgi-bin/menu/addconditional: errcode 45009 refused rid: x)
the account has now: the file's default menu and its first 1 personalized menu (conditional menu "vip": menuid 208379533); conditional menu "android" not created
to finish, fix the cause and run wxengine menu push again: it deletes the personalized menus the account has and creates the file's (each addconditional and delconditional counts against its daily quota of 2000)
`,
    )
    const from = fake.requests.length
    const again = await project.run(['menu', 'push'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(menuCalls(from).slice(1), ['GET /cgi-bin/menu/get', 'POST /cgi-bin/menu/delconditional {"menuid":"208379533"}', `POST /cgi-bin/menu/addconditional ${VIP_JSON}`, `POST /cgi-bin/menu/addconditional ${ANDROID_JSON}`])
    assert.deepEqual(conditional.map((c) => JSON.stringify(c.body)), [VIP_JSON, ANDROID_JSON])
  })

  test('no answer (a dropped connection): the menu or the personalized menu may have been made, not "not sent"; push again ends it', async () => {
    writeMenu(COND_YAML)
    fake.dropNext('/cgi-bin/menu/create', 1)
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^wxengine menu push: no answer from WeChat \(POST \/cgi-bin\/menu\/create: network error: .*\): the menu may have been made or not, and the personalized menus were not touched; run wxengine menu push again\n$/m)
    assert.doesNotMatch(r.stderr, /not sent/)

    // The first addconditional unanswered: it may be on the account; the second was not tried.
    const from = adds
    fake.dropNext('/cgi-bin/menu/addconditional', 1)
    const cond = await project.run(['menu', 'push'], { env })
    assert.equal(cond.code, 1)
    assert.equal(adds, from, 'the dropped request reached no route')
    assert.match(cond.stderr, /^wxengine menu push: conditional menu "vip" \(line 11\): no answer from WeChat \(POST \/cgi-bin\/menu\/addconditional: network error: .*\): it may have been created or not\n/m)
    assert.match(cond.stderr, /^the account has now: the file's default menu; conditional menu "vip" perhaps created \(no answer\); conditional menu "android" not created$/m)
    const again = await project.run(['menu', 'push'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(conditional.map((c) => JSON.stringify(c.body)), [VIP_JSON, ANDROID_JSON])
  })

  test('a delconditional refused says which old menus are left; nothing of the file is created', async () => {
    current = JSON.parse(MENU_JSON) as JsonObject
    conditional = [
      { menuid: 100, body: { button: [{ type: 'click', name: 'old', key: 'OLD' }], matchrule: { tag_id: '9' } } },
      { menuid: 101, body: { button: [{ type: 'click', name: 'old2', key: 'OLD' }], matchrule: { tag_id: '8' } } },
    ]
    writeMenu(MENU_YAML)
    const original = fake.requests.length
    refuseDel.set(2, -1)
    const r = await project.run(['menu', 'push'], { env })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^wxengine menu push: the personalized menu 101 could not be deleted \(POST \/cgi-bin\/menu\/delconditional: WeChat refused it with errcode -1 /m)
    assert.match(r.stderr, /^the account has now: the file's default menu; of its old personalized menus, 100 deleted and 101 still there; none of the file's 0 created$/m)
    assert.deepEqual(conditional.map((c) => c.menuid), [101])
    assert.equal(menuCalls(original).filter((c) => c.includes('addconditional')).length, 0)
  })

  test('show and pull include them (matchrule values as text, menuid as a comment); pushing the pulled file sends the same bodies', async () => {
    writeMenu(COND_YAML)
    assert.equal((await project.run(['menu', 'push'], { env })).code, 0)
    const first = fake.requests.filter((r) => r.path === '/cgi-bin/menu/create' || r.path === '/cgi-bin/menu/addconditional').slice(-3).map((r) => JSON.stringify(r.body))
    rmSync(menuFile())
    const shown = await project.run(['menu', 'show'], { env })
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /\nconditional:\n {2}# menuid 208379533\n {2}- matchrule:\n {6}tag_id: "101"\n {4}button:\n {6}- type: click\n {8}name: 会员\n/)
    const pulled = await project.run(['menu', 'pull'], { env })
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.equal(pulled.stdout, 'menus/default.yaml: written, 2 buttons, 2 personalized menus\n')
    const check = await project.run(['menu', 'check'])
    assert.equal(check.code, 0, check.stdout + check.stderr)
    current = null
    conditional = []
    const from = fake.requests.length
    const pushed = await project.run(['menu', 'push'], { env })
    assert.equal(pushed.code, 0, pushed.stderr)
    const again = fake.requests.slice(from).filter((r) => r.path === '/cgi-bin/menu/create' || r.path === '/cgi-bin/menu/addconditional').map((r) => JSON.stringify(r.body))
    assert.deepEqual(again, first)
    assert.deepEqual(first, [MENU_JSON, VIP_JSON, ANDROID_JSON])
  })

  test('a personalized menu matching on sex (made before 2021) is shown and pulled with a warning; check refuses it', async () => {
    current = JSON.parse(MENU_JSON) as JsonObject
    conditional = [{ menuid: 300, body: { button: [{ type: 'click', name: '男', key: 'hello' }], matchrule: { sex: '1' } } }]
    const shown = await project.run(['menu', 'show'], { env })
    assert.equal(shown.code, 0, shown.stderr)
    assert.equal(shown.stderr, 'warning: conditional menu 1 (menuid 300) matches on sex, which WeChat no longer matches on (2021): no one sees it, and push would be refused (65320); match a tag_id instead, or remove it\n')
    assert.match(shown.stdout, /# menuid 300\n {2}# matchrule sex: WeChat no longer matches on sex, region or language \(2021\)/)
    assert.equal((await project.run(['menu', 'pull'], { env })).code, 0)
    const check = await project.run(['menu', 'check'])
    assert.equal(check.code, 1)
    assert.match(check.stdout, /^menus\/default\.yaml:\d+:\d+: conditional menu 1: matchrule sex: WeChat no longer matches personalized menus on sex, region or language/m)
  })

  test('match: the menu a user sees (trymatch), and which of the account\'s menus it is', async () => {
    writeMenu(COND_YAML)
    assert.equal((await project.run(['menu', 'push'], { env })).code, 0)
    const vip = await project.run(['menu', 'match', 'o-vip'], { env })
    assert.equal(vip.code, 0, vip.stderr)
    assert.equal(vip.stdout, 'button:\n  - type: click\n    name: 会员\n    key: hello\n  - type: view\n    name: 官网\n    url: https://vip.example/\n')
    assert.equal(vip.stderr, 'user o-vip sees personalized menu 208379533 (tag_id 101)\n')
    assert.deepEqual(menuRequests('/cgi-bin/menu/trymatch').at(-1)!.body, { user_id: 'o-vip' })
    const plain = await project.run(['menu', 'match', 'o-plain'], { env })
    assert.equal(plain.stderr, 'user o-plain sees the default menu\n')
    const nobody = await project.run(['menu', 'match', 'o-nobody'], { env })
    assert.equal(nobody.code, 1)
    assert.equal(nobody.stderr, 'wxengine menu match: WeChat refused it with errcode 65302: no such user: trymatch takes the OpenID or the WeChat ID of a user who follows the account (POST /cgi-bin/menu/trymatch: errcode 65302 no such user rid: x)\n')
  })
})

describe('login buttons (a view button with login:)', () => {
  const LOGIN_YAML = `button:
  - {type: click, name: 你好, key: hello}
  - {type: view, name: 会员中心, url: 'https://vip.example.com/center#/me', login: userinfo}
`
  const LINK = `https://wx.example.com/wx/oauth/default?to=${encodeURIComponent('https://vip.example.com/center#/me')}&scope=userinfo`
  const withWeb = () => ({ ...env, PUBLIC_URL: 'https://wx.example.com/wx/', WECHAT_PAGE_DOMAINS: 'vip.example.com' })

  test('check names the login; push sends the login link on publicUrl; pull writes the page and login: back', async () => {
    writeMenu(LOGIN_YAML)
    const checked = await project.run(['menu', 'check'], { env: withWeb() })
    assert.equal(checked.code, 0, checked.stderr)
    assert.match(checked.stdout, /^ {2}会员中心 {2}view https:\/\/vip\.example\.com\/center#\/me \(login: userinfo\)$/m)
    const pushed = await project.run(['menu', 'push'], { env: withWeb() })
    assert.equal(pushed.code, 0, pushed.stderr)
    const body = menuRequests('/cgi-bin/menu/create').at(-1)!.body as { button: Array<Record<string, string>> }
    assert.deepEqual(body.button[1], { type: 'view', name: '会员中心', url: LINK })
    rmSync(menuFile())
    const pulled = await project.run(['menu', 'pull'], { env: withWeb() })
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.match(readFileSync(menuFile(), 'utf8'), /- type: view\n {4}name: 会员中心\n {4}url: https:\/\/vip\.example\.com\/center#\/me\n {4}login: userinfo\n/)
  })

  test('without publicUrl, check and rules check refuse the file at the button, and push sends nothing', async () => {
    writeMenu(LOGIN_YAML)
    const noPublic = { ...env, WECHAT_PAGE_DOMAINS: 'vip.example.com' }
    const creates = menuRequests('/cgi-bin/menu/create').length
    const pushed = await project.run(['menu', 'push'], { env: noPublic })
    assert.equal(pushed.code, 1)
    assert.match(pushed.stdout, /menus\/default\.yaml:3:5: button "会员中心": login: the engine's public address is not set: set publicUrl in engine\.config\.ts \(or PUBLIC_URL\)/)
    assert.match(pushed.stderr, /1 error in menus\/default\.yaml: its login buttons' links cannot be made with this configuration; nothing is sent until they can/)
    assert.equal(menuRequests('/cgi-bin/menu/create').length, creates)
    // rules check still checks the buttons against the rules (a CI without PUBLIC_URL), and says what push would refuse.
    writeMenu(LOGIN_YAML + '  - {type: scancode_push, name: 扫一扫, key: SCAN}\n')
    const rules = await project.run(['rules', 'check'], { env: noPublic })
    assert.match(rules.stdout, /^warning: menus\/default\.yaml:4:5: button "扫一扫" \(scancode_push, key "SCAN"\): nothing answers it/m)
    assert.match(rules.stdout, /^warning: menus\/default\.yaml:3:5: button "会员中心": login: the engine's public address is not set: .* \(menu push refuses the menu until it can be linked\)$/m)
  })
})
