/**
 * `wxengine qrcode create` as a user runs it: a child process against the real HTTP fake of the platform API
 * (core/testkit/fake-wechat-api.ts: qrcode/create, and showqrcode as mp.weixin.qq.com's) on 127.0.0.1.
 * The fixture's rules have a subscribe handler for scene 123, a welcome, and no scan handler.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, test } from 'node:test'
import { storeEngineToken } from '../support/engine-token.ts'
import { FAKE_PATHS, startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { makeProject, type Project } from './cli-harness.ts'

const APP_ID = 'wx1111111111111111'
const SECRET = 'qrcode-secret'

let project: Project
let fake: FakeWeChatApi
let env: NodeJS.ProcessEnv

const creates = () => fake.requests.filter((r) => r.path === FAKE_PATHS.qrcodeCreate)
const scanRules = path.join('rules', 'qr.yaml')

before(async () => {
  project = makeProject()
  fake = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
  env = { WECHAT_APPSECRET: SECRET, WECHAT_API_BASE: fake.baseUrl, WECHAT_MP_BASE: fake.baseUrl }
})
after(async () => {
  await fake.close()
  project.remove()
})
beforeEach(() => rmSync(path.join(project.dir, scanRules), { force: true }))

describe('wxengine qrcode create', () => {
  test('sends exactly the JSON qrcode/create takes with the token the store shares, prints ticket, url, image address and expiry, writes the image', async () => {
    const before = Date.now()
    const r = await project.run(['qrcode', 'create', '123', '--expire', '7d', '--out', 'poster.jpg'], { env })
    assert.equal(r.code, 0, r.stderr)
    const [create] = creates()
    assert.equal(JSON.stringify(create!.body), '{"expire_seconds":604800,"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":123}}}')
    assert.equal(create!.query.access_token, fake.issuedTokens[0])
    assert.equal(fake.tokenRequests, 1)
    const code = fake.qrcodes[0]!
    const lines = r.stdout.split('\n')
    assert.deepEqual(lines.slice(0, 8), [
      'scene 123 (account default):',
      `  a new follower's scan (subscribe, EventKey qrscene_123): handler "subscribe:123@main.yaml:13" -> reply text`,
      `  a follower's scan (SCAN, EventKey 123): nothing for this scene: no reply (the engine answers "success")`,
      'made: a temporary QR code for scene 123 (QR_SCENE, account default)',
      `ticket: ${code.ticket}`,
      `url: ${code.url}`,
      `image: ${fake.baseUrl}/cgi-bin/showqrcode?ticket=${encodeURIComponent(code.ticket)}`,
      lines[7],
    ])
    const expires = /^expires: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \(in 7 days\)$/.exec(lines[7]!)
    assert.ok(expires, lines[7])
    const at = Date.parse(`${expires[1]}Z`)
    assert.ok(at >= Math.floor(before / 1000) * 1000 + 604_800_000 && at <= Date.now() + 604_800_000, `${expires[1]} is 7 days from now`)
    assert.equal(lines[8], `wrote poster.jpg (${code.image.length} bytes)`)
    assert.deepEqual(readFileSync(path.join(project.dir, 'poster.jpg')), code.image)
    assert.equal(
      r.stderr,
      'warning: scene 123: nothing for this scene answers a follower\'s scan, who gets no reply (the engine answers "success"); a handler {type: scan, scene: 123} in rules/ answers it\n',
    )
    // Another command (another process) takes the same token from the store.
    const again = await project.run(['qrcode', 'create', 'spring-expo', '--permanent'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.equal(JSON.stringify(creates()[1]!.body), '{"action_name":"QR_LIMIT_STR_SCENE","action_info":{"scene":{"scene_str":"spring-expo"}}}')
    assert.equal(creates()[1]!.query.access_token, fake.issuedTokens[0])
    assert.equal(fake.tokenRequests, 1)
    assert.match(again.stdout, /^made: a permanent QR code for scene spring-expo \(QR_LIMIT_STR_SCENE, account default\)$/m)
    assert.match(again.stdout, /^expires: never \(a permanent code; an account has at most 100000 of them\)$/m)
    assert.doesNotMatch(again.stdout, /^wrote /m)
  })

  test("the token an engine keeps in the project's store is the one used: the command fetches none of its own", async () => {
    const answer = { access_token: await storeEngineToken(fake.baseUrl, project.dataDir, APP_ID, SECRET) }
    const fetched = fake.tokenRequests
    const r = await project.run(['qrcode', 'create', '42', '--str', '--expire', '3600s'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.stringify(creates().at(-1)!.body), '{"expire_seconds":3600,"action_name":"QR_STR_SCENE","action_info":{"scene":{"scene_str":"42"}}}')
    assert.equal(creates().at(-1)!.query.access_token, answer.access_token)
    assert.equal(fake.tokenRequests, fetched)
    assert.match(r.stdout, /^expires: .* UTC \(in 1 hour\)$/m)
  })

  test('a temporary code whose answer lacks expire_seconds: its expiry is the one asked for, said so, not "never (a permanent code)"', async () => {
    void fake.answerRawNext(FAKE_PATHS.qrcodeCreate, {
      status: 200,
      contentType: 'application/json',
      body: '{"ticket":"gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==","url":"http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI"}',
    })
    const r = await project.run(['qrcode', 'create', '77', '--expire', '12h'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^made: a temporary QR code for scene 77 \(QR_SCENE, account default\)$/m)
    assert.match(r.stdout, /^expires: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 12 hours, as asked: WeChat's answer did not say\)$/m)
    assert.doesNotMatch(r.stdout, /never|permanent/)
  })

  test('usage errors are said before anything is asked or sent: exit 2', async () => {
    mkdirSync(path.join(project.dir, 'images'), { recursive: true })
    const cases: [string[], string][] = [
      [['100001', '--permanent'], `wxengine qrcode create: scene 100001: a permanent code's scene_id is 1 to 100000 (QR_LIMIT_SCENE); add --str to send it as the scene string "100001" (QR_LIMIT_STR_SCENE)\n`],
      [['1', '--expire', '31d'], 'wxengine qrcode create: --expire 31d is 2678400 seconds, over the 2592000 (30 days) WeChat allows a temporary code\n'],
      [['1', '--permanent', '--expire', '7d'], 'wxengine qrcode create: --expire is for a temporary code: a permanent one (--permanent) never expires\n'],
      [['qrscene_1'], `wxengine qrcode create: scene "qrscene_1": write it without qrscene_ (WeChat adds that to a new follower's push, and a handler's scene: is written without it): wxengine qrcode create 1\n`],
      [['x'.repeat(65)], `wxengine qrcode create: scene "${'x'.repeat(65)}": a scene string is 1 to 64 characters, this one has 65\n`],
      [['1', '--out', 'nowhere/qr.jpg'], 'wxengine qrcode create: --out nowhere/qr.jpg: the folder nowhere does not exist\n'],
      [['1', '--out', 'images'], 'wxengine qrcode create: --out images is a folder: name the image file (images/qrcode-1.jpg)\n'],
      [['1', '--account', 'sfae'], 'wxengine qrcode create: no account "sfae" in the configuration (did you mean "safe"?); accounts: default, safe\n'],
    ]
    const sent = fake.requests.length
    for (const [args, stderr] of cases) {
      const r = await project.run(['qrcode', 'create', ...args], { env })
      assert.equal(r.code, 2, args.join(' '))
      assert.equal(r.stderr, stderr, args.join(' '))
      assert.equal(r.stdout, '', args.join(' '))
    }
    assert.equal(fake.requests.length, sent)
  })

  test('a scene nothing names: what a scan gets instead, warned; --strict fails it and makes no code; with a handler for each push it passes', async () => {
    const made = creates().length
    const r = await project.run(['qrcode', 'create', 'spring', '--strict'], { env })
    assert.equal(r.code, 1)
    assert.equal(
      r.stdout,
      `scene spring (account default):
  a new follower's scan (subscribe, EventKey qrscene_spring): nothing for this scene: the welcome reply (reply text), as every follow gets
  a follower's scan (SCAN, EventKey spring): nothing for this scene: no reply (the engine answers "success")
`,
    )
    assert.equal(
      r.stderr,
      `warning: scene spring: nothing for this scene answers a new follower's scan, who gets the welcome reply (reply text), as every follow gets; a handler {type: subscribe, scene: "spring"} in rules/ answers it
warning: scene spring: nothing for this scene answers a follower's scan, who gets no reply (the engine answers "success"); a handler {type: scan, scene: "spring"} in rules/ answers it
2 warnings, which --strict counts as failures: no QR code made
`,
    )
    assert.equal(creates().length, made)
    // Without --strict it is made all the same.
    const loose = await project.run(['qrcode', 'create', 'spring'], { env })
    assert.equal(loose.code, 0, loose.stderr)
    assert.equal(creates().length, made + 1)
    writeFileSync(path.join(project.dir, scanRules), "handlers:\n  - name: poster-scan\n    type: scan\n    scene: '123'\n    plugin: echo\n")
    const strict = await project.run(['qrcode', 'create', '123', '--strict'], { env })
    assert.equal(strict.code, 0, strict.stderr)
    assert.match(strict.stdout, /^ {2}a follower's scan \(SCAN, EventKey 123\): handler "poster-scan" -> plugin echo; if it passes: no reply \(the engine answers "success"\)$/m)
    assert.equal(strict.stderr, '')
    assert.equal(creates().length, made + 2)
  })

  test('--dry-run prints the JSON and sends nothing, with no appSecret needed', async () => {
    const sent = fake.requests.length
    const r = await project.run(['qrcode', 'create', 'poster-a', '--expire', '12h', '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /\nPOST \/cgi-bin\/qrcode\/create\n\{"expire_seconds":43200,"action_name":"QR_STR_SCENE","action_info":\{"scene":\{"scene_str":"poster-a"\}\}\}\n$/)
    assert.match(r.stderr, /dry run: this is the JSON POST \/cgi-bin\/qrcode\/create would send for account default; nothing was sent\n$/)
    assert.equal(fake.requests.length, sent)
  })

  test('a refusal is said in words (exit 1); no appSecret is exit 2; a store that does not open exit 1; nothing sent for either', async () => {
    fake.failNext(FAKE_PATHS.qrcodeCreate, 1, 48001)
    const refused = await project.run(['qrcode', 'create', '123'], { env })
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^wxengine qrcode create: no QR code made: WeChat refused it with errcode 48001: this account may not use the QR code API \(api unauthorized\): parameter QR codes are for verified service accounts \(认证服务号\) \(POST \/cgi-bin\/qrcode\/create: errcode 48001 api unauthorized rid: \S+\)$/m)
    assert.doesNotMatch(refused.stdout, /^ticket:/m)
    const sent = fake.requests.length
    const noSecret = await project.run(['qrcode', 'create', '123'], { env: { WECHAT_API_BASE: fake.baseUrl } })
    assert.equal(noSecret.code, 2)
    assert.match(noSecret.stderr, /^wxengine qrcode create: account "default" has no appSecret, and the QR code API needs an access_token: set WECHAT_APPSECRET, or the appSecret of account "default" in engine\.config\.ts/m)
    const notADir = path.join(project.dir, 'data-is-a-file')
    writeFileSync(notADir, '')
    const noStore = await project.run(['qrcode', 'create', '123'], { env: { ...env, DATA_DIR: notADir } })
    assert.equal(noStore.code, 1, noStore.stderr)
    assert.match(noStore.stderr, /wxengine qrcode create: cannot open the sqlite store, where the access_token is shared with the engine: /)
    assert.equal(fake.requests.length, sent)
  })

  test('no answer (a dropped connection): the code may have been made, not "no QR code made"; exit 1', async () => {
    fake.dropNext(FAKE_PATHS.qrcodeCreate, 1)
    const r = await project.run(['qrcode', 'create', '123'], { env })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^wxengine qrcode create: no answer from WeChat \(POST \/cgi-bin\/qrcode\/create: network error: .*\): the code may have been made, but its ticket did not come; run the command again for one$/m)
    assert.doesNotMatch(r.stderr, /no QR code made/)
    assert.doesNotMatch(r.stdout, /^ticket:/m)
  })

  test("no access_token to be had (the IP whitelist, 40164) is said as the token API's, not as qrcode/create refusing with an errcode it has no words for", async () => {
    fake.expireToken()
    fake.failNext(FAKE_PATHS.token, 1, 40164, 'invalid ip 203.0.113.7')
    const made = fake.qrcodes.length
    const r = await project.run(['qrcode', 'create', '123'], { env })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^wxengine qrcode create: no QR code made: GET \/cgi-bin\/token: errcode 40164 invalid ip 203\.0\.113\.7 rid: \S+ \(this server's IP is not in the account's IP whitelist: add it in mp\.weixin\.qq\.com \(基本配置 > IP白名单\)\)$/m)
    assert.doesNotMatch(r.stderr, /WeChat refused it|no plain words/)
    // A request with the expired token may have reached qrcode/create (refused 42001); no code was made.
    assert.equal(fake.qrcodes.length, made)
  })

  test('an image that cannot be fetched: the code is made and said (ticket, image address), exit 1, no file', async () => {
    void fake.answerRawNext(FAKE_PATHS.showQrcode, { status: 404, contentType: 'text/html', body: '<html>404</html>' })
    const r = await project.run(['qrcode', 'create', '123', '--out', 'lost.jpg'], { env })
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^ticket: gQ/m)
    assert.match(r.stdout, /^image: http:\/\/127\.0\.0\.1:\d+\/cgi-bin\/showqrcode\?ticket=/m)
    assert.match(r.stderr, /wxengine qrcode create: the code is made \(ticket above\), but its image could not be fetched: GET \/cgi-bin\/showqrcode: HTTP 404 \(a ticket WeChat does not know, or one expired\); fetch it from the image address above\n$/)
    assert.equal(existsSync(path.join(project.dir, 'lost.jpg')), false)
  })
})

describe('wxengine qrcode image', () => {
  const shows = () => fake.requests.filter((r) => r.path === FAKE_PATHS.showQrcode)
  const made = async (): Promise<{ ticket: string; image: Buffer }> => {
    const r = await project.run(['qrcode', 'create', '123'], { env })
    assert.equal(r.code, 0, r.stderr)
    return fake.qrcodes.at(-1)!
  }

  test("a kept ticket's image, fetched again from showqrcode on platform.mpBase with no token and no AppSecret; the ticket as the image address writes it (URL-encoded) is taken too", async () => {
    const code = await made()
    const tokens = fake.tokenRequests
    const sent = fake.requests.length
    const r = await project.run(['qrcode', 'image', code.ticket, '--out', 'again.jpg'], { env: { WECHAT_MP_BASE: fake.baseUrl } })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `wrote again.jpg (${code.image.length} bytes)\n`)
    assert.equal(r.stderr, '')
    assert.deepEqual(readFileSync(path.join(project.dir, 'again.jpg')), code.image)
    assert.deepEqual(fake.requests.slice(sent).map((q) => [q.path, q.query]), [[FAKE_PATHS.showQrcode, { ticket: code.ticket }]])
    assert.equal(fake.tokenRequests, tokens)

    const encoded = await project.run(['qrcode', 'image', encodeURIComponent(code.ticket), '--out', 'encoded.jpg'], { env: { WECHAT_MP_BASE: fake.baseUrl } })
    assert.equal(encoded.code, 0, encoded.stderr)
    assert.deepEqual(readFileSync(path.join(project.dir, 'encoded.jpg')), code.image)
    // Written beside the file and renamed onto it: nothing else is left in the folder.
    assert.deepEqual(readdirSync(project.dir).filter((f) => f.includes('.part')), [])
  })

  test('the refusals of create --out: a ticket WeChat does not know (404), an answer that is no image, one over 5 MB: exit 1, no file', async () => {
    const code = await made()
    const cases: [() => void, string, RegExp][] = [
      [() => undefined, 'gQunknown', /^wxengine qrcode image: the image could not be fetched: GET \/cgi-bin\/showqrcode: HTTP 404 \(a ticket WeChat does not know, or one expired\)\n$/],
      [() => void fake.answerRawNext(FAKE_PATHS.showQrcode, { status: 200, contentType: 'text/html', body: '<html>busy</html>' }), code.ticket, /^wxengine qrcode image: the image could not be fetched: GET \/cgi-bin\/showqrcode: HTTP 200, text\/html, not an image \(17 bytes\)\n$/],
      [
        () => void fake.answerRawNext(FAKE_PATHS.showQrcode, { status: 200, contentType: 'image/jpeg', body: Buffer.alloc(1024 * 1024, 0xff), repeat: 6, chunked: true }),
        code.ticket,
        /^wxengine qrcode image: the image could not be fetched: GET \/cgi-bin\/showqrcode: HTTP 200, over 5242880 bytes, not an image\n$/,
      ],
    ]
    for (const [arrange, ticket, stderr] of cases) {
      arrange()
      const r = await project.run(['qrcode', 'image', ticket, '--out', 'refused.jpg'], { env })
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, stderr)
      assert.equal(r.stdout, '')
      assert.equal(existsSync(path.join(project.dir, 'refused.jpg')), false)
    }
  })

  test('usage errors, before anything is fetched: exit 2', async () => {
    mkdirSync(path.join(project.dir, 'images'), { recursive: true })
    const cases: [string[], RegExp][] = [
      [['gQx'], /error: required option '-o, --out <file>' not specified/],
      [[' ', '--out', 'x.jpg'], /^wxengine qrcode image: the ticket is empty: give the one qrcode create printed \(ticket: \.\.\.\)\n$/],
      [['gQ%zz', '--out', 'x.jpg'], /^wxengine qrcode image: ticket "gQ%zz" is not one: a ticket is base64, and this has a % that is not URL-encoding\n$/],
      [['gQx', '--out', 'nowhere/qr.jpg'], /^wxengine qrcode image: --out nowhere\/qr\.jpg: the folder nowhere does not exist\n$/],
      [['gQx', '--out', 'images'], /^wxengine qrcode image: --out images is a folder: name the image file \(images\/qrcode\.jpg\)\n$/],
    ]
    const sent = shows().length
    for (const [args, stderr] of cases) {
      const r = await project.run(['qrcode', 'image', ...args], { env })
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, stderr, args.join(' '))
      assert.equal(r.stdout, '', args.join(' '))
    }
    assert.equal(shows().length, sent)
  })
})
