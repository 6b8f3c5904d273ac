import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { createLogger } from '../../core/log/logger.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { openStore } from '../../core/store/open-store.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project

before(() => {
  project = makeProject()
})
after(() => project.remove())

describe('wxengine send --local (engine in the CLI process)', () => {
  test("LOG_LEVEL=info shows the plugins' own lines on stderr, with the reason of a line that has one", async () => {
    mkdirSync(path.join(project.dir, 'plugins', 'chatty'))
    writeFileSync(
      path.join(project.dir, 'plugins', 'chatty', 'index.ts'),
      "import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: 'chatty', handle(ctx) {\n  ctx.log.info('looking it up')\n  ctx.log.warn('cache cold', { reason: 'first call since start' })\n  return ctx.reply.text('found')\n} })\n",
    )
    writeFileSync(path.join(project.dir, 'rules', 'chatty.yaml'), 'rules:\n  - name: chatty\n    keywords: [chatty]\n    plugin: chatty\n')
    try {
      const quiet = await project.run(['send', 'chatty', '--openid', 'u1', '--local'])
      assert.equal(quiet.stdout, 'text reply\n  Content: found\n', quiet.stderr)
      assert.equal(quiet.stderr, 'warning: [chatty] cache cold: first call since start\n')
      const loud = await project.run(['send', 'chatty', '--openid', 'u1', '--local'], { env: { LOG_LEVEL: 'info' } })
      assert.match(loud.stderr, /^info: \[chatty\] looking it up$/m)
      assert.match(loud.stderr, /^warning: \[chatty\] cache cold: first call since start$/m)
    } finally {
      rmSync(path.join(project.dir, 'plugins', 'chatty'), { recursive: true })
      rmSync(path.join(project.dir, 'rules', 'chatty.yaml'))
    }
  })

  test('a text goes through a rule to the TypeScript plugin', async () => {
    const r = await project.run(['send', 'echo good morning', '--openid', 'u1', '--local'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'text reply\n  Content: good morning\n')
  })

  test('a message a session answered says so on stderr: every --local run shares the store, and a dialogue an earlier run began took the next texts as answers without a word (a plugin author\'s walkthrough)', async () => {
    mkdirSync(path.join(project.dir, 'plugins', 'asker'))
    writeFileSync(
      path.join(project.dir, 'plugins', 'asker', 'index.ts'),
      "import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: 'asker', handle(ctx) {\n" +
        "  if (!ctx.session.active) { ctx.session.begin(300); return ctx.reply.text('Your name?') }\n" +
        "  ctx.session.end()\n  return ctx.reply.text('Thanks')\n} })\n",
    )
    writeFileSync(path.join(project.dir, 'rules', 'asker.yaml'), 'rules:\n  - name: asker\n    keywords: [asker]\n    plugin: asker\n')
    try {
      const begun = await project.run(['send', 'asker', '--openid', 'u-asked', '--local'])
      assert.equal(begun.stdout, 'text reply\n  Content: Your name?\n', begun.stderr)
      assert.equal(begun.stderr, '', 'a rule answered: no hint')
      const answered = await project.run(['send', 'echo good morning', '--openid', 'u-asked', '--local'])
      assert.equal(answered.stdout, 'text reply\n  Content: Thanks\n', answered.stderr)
      assert.match(answered.stderr, /^hint: answered by plugin asker in the conversation \(session\) an earlier message of u-asked began, not through the rules: .*--openid <another> sends as a new user\n$/)
      const after = await project.run(['send', 'echo good morning', '--openid', 'u-asked', '--local'])
      assert.equal(after.stdout, 'text reply\n  Content: good morning\n', after.stderr)
      assert.equal(after.stderr, '')
    } finally {
      rmSync(path.join(project.dir, 'plugins', 'asker'), { recursive: true })
      rmSync(path.join(project.dir, 'rules', 'asker.yaml'))
    }
  })

  test('a safe-mode account: the push is encrypted and the reply decrypted and verified', async () => {
    const r = await project.run(['send', 'hello', '--openid', 'u1', '--account', 'safe', '--local'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'text reply (encrypted, decrypted and verified)\n  Content: Hi there\n')
  })

  test('--raw prints the encrypted XML as received', async () => {
    const r = await project.run(['send', 'hello', '--openid', 'u1', '--account', 'safe', '--local', '--raw'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^<xml><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><MsgSignature>/)
    assert.doesNotMatch(r.stdout, /Hi there/)
  })

  test('events and other message types', async () => {
    const cases: [string[], string][] = [
      [['--event', 'CLICK', '--key', 'MENU_HELP'], 'text reply\n  Content: You clicked a menu button\n'],
      [['--event', 'subscribe', '--key', 'qrscene_123', '--field', 'Ticket=t1'], 'text reply\n  Content: Welcome from poster 123\n'],
      [['--event', 'subscribe'], 'text reply\n  Content: Thanks for following\n'],
      [['--location', '23.1,113.3'], 'text reply\n  Content: you are at 23.1,113.3\n'],
      [['--type', 'image', '--field', 'PicUrl=http://example.com/a.jpg', '--field', 'MediaId=m1'], 'image reply\n  Image:\n    MediaId: thanks-for-the-picture\n'],
      [['--event', 'unsubscribe'], 'no reply (the engine answered "success")\n'],
    ]
    for (const [flags, expected] of cases) {
      const r = await project.run(['send', '--openid', 'u2', '--local', ...flags])
      assert.equal(r.code, 0, `${flags.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, expected, `${flags.join(' ')}: ${r.stderr}`)
    }
  })

  test('--type image alone is an image the handler answers (it was unknown, for want of PicUrl and MediaId), and the placeholders are named on stderr', async () => {
    const r = await project.run(['send', '--openid', 'u2', '--local', '--type', 'image'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'image reply\n  Image:\n    MediaId: thanks-for-the-picture\n')
    assert.equal(r.stderr, 'wxengine send: placeholders sent for PicUrl, MediaId (set them with --field Name=value)\n')
    const click = await project.run(['send', '--openid', 'u2', '--local', '--event', 'CLICK'])
    assert.equal(click.stdout, 'text reply\n  Content: You clicked a menu button\n', click.stderr)
    assert.equal(click.stderr, 'wxengine send: placeholders sent for EventKey (set them with --key or --field Name=value)\n')
  })

  test('--wait: the messages sent through the API after the answer (ctx.api.sendToUser, a late reply, ctx.api.sendTemplate, ctx.api.sendSubscribeMessage) are printed, captured on 127.0.0.1; none of the stand-in\'s tokens reach the store', async () => {
    mkdirSync(path.join(project.dir, 'plugins', 'later'))
    writeFileSync(
      path.join(project.dir, 'plugins', 'later', 'index.ts'),
      "import { definePlugin } from 'wxengine/plugin'\nconst sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))\n" +
        "export default definePlugin({ name: 'later', async handle(ctx) {\n" +
        "  if (ctx.message.kind === 'text' && ctx.message.content === 'later slow') { await sleep(800); return ctx.reply.text('late reply') }\n" +
        "  if (ctx.message.kind === 'text' && ctx.message.content === 'later notice') { await ctx.api.sendTemplate(ctx.message.fromUser, { templateId: 'tpl-1', data: { thing1: 'ready' } }); return ctx.reply.none() }\n" +
        "  if (ctx.message.kind === 'text' && ctx.message.content === 'later remind') { await ctx.api.sendSubscribeMessage(ctx.message.fromUser, { templateId: 'sub-1', page: 'https://example.com/m/1', data: { thing1: 'Meeting at 3' } }); return ctx.reply.none() }\n" +
        "  void sleep(100).then(() => ctx.api.sendToUser(ctx.message.fromUser, ctx.reply.text('done, later')))\n" +
        "  return ctx.reply.text('working on it')\n} })\n",
    )
    writeFileSync(path.join(project.dir, 'rules', 'later.yaml'), 'rules:\n  - name: later\n    keywords: [{ prefix: later }]\n    plugin: later\n')
    // A reply budget the slow call outruns, without waiting 4.5 s.
    const source = readFileSync(path.join(project.dir, 'engine.config.ts'), 'utf8')
    writeFileSync(path.join(project.dir, 'quick.config.ts'), source.replace("store: { kind: 'sqlite' },", "store: { kind: 'sqlite' },\n  limits: { replyBudgetMs: 300 },"))
    try {
      const sent = await project.run(['send', 'later', '--openid', 'u3', '--local', '--wait', '1.5'])
      assert.equal(sent.code, 0, sent.stderr)
      assert.match(sent.stdout, /^text reply\n {2}Content: working on it\ntext message through the customer-service API, \d\.\d s after the push\n {2}text:\n {4}content: done, later\n$/)
      assert.match(sent.stderr, /^wxengine send: waiting 1\.5 s for messages sent through the API \(a late reply, ctx\.api\.sendToUser, ctx\.api\.sendTemplate, ctx\.api\.sendSubscribeMessage\); Ctrl-C ends the wait\n$/)

      const notice = await project.run(['send', 'later notice', '--openid', 'u3', '--local', '--wait', '0.5'])
      assert.equal(notice.code, 0, notice.stderr)
      assert.match(notice.stdout, /^no reply \(the engine answered "success"\)\ntemplate message tpl-1 through the template API, \d\.\d s after the push\n {2}data:\n {4}thing1:\n {6}value: ready\n$/)

      const remind = await project.run(['send', 'later remind', '--openid', 'u3', '--local', '--wait', '0.5'])
      assert.equal(remind.code, 0, remind.stderr)
      assert.match(remind.stdout, /^no reply \(the engine answered "success"\)\nsubscription notice sub-1 through the subscription API \(bizsend\), \d\.\d s after the push\n {2}page: https:\/\/example\.com\/m\/1\n {2}data:\n {4}thing1:\n {6}value: Meeting at 3\n$/)

      const late = await project.run(['-c', 'quick.config.ts', 'send', 'later slow', '--openid', 'u3', '--local', '--wait', '2', '--account', 'safe'])
      assert.equal(late.code, 0, late.stderr)
      assert.match(late.stdout, /^no reply \(the engine answered "success"\)\ntext message through the customer-service API, \d\.\d s after the push\n {2}text:\n {4}content: late reply\n$/)

      // Without --wait the late reply is not printed (it goes to the platform): the warning says how to see it.
      const unwatched = await project.run(['-c', 'quick.config.ts', 'send', 'later slow', '--openid', 'u3', '--local', '--account', 'safe'])
      assert.equal(unwatched.stdout, 'no reply (the engine answered "success")\n')
      assert.match(unwatched.stderr, /^warning: reply budget spent: answered success; plugin later is still working, the reply will go out late\nhint: add --wait to print the late reply here; without it, the late reply goes to the platform API, for a user that exists only in this try-out\n/)
      assert.doesNotMatch(late.stderr, /hint:/)
      // Told by the engine's event, not keyed on its line: with that line below LOG_LEVEL, the hint still comes.
      const errorsOnly = await project.run(['-c', 'quick.config.ts', 'send', 'later slow', '--openid', 'u3', '--local', '--account', 'safe'], { env: { LOG_LEVEL: 'error' } })
      assert.equal(errorsOnly.stdout, 'no reply (the engine answered "success")\n')
      assert.match(errorsOnly.stderr, /^hint: add --wait to print the late reply here; without it, the late reply goes to the platform API, for a user that exists only in this try-out\n/)
      assert.doesNotMatch(errorsOnly.stderr, /reply budget spent/)

      const quiet = await project.run(['send', 'hello', '--openid', 'u3', '--local', '--wait', '0.2'])
      assert.equal(quiet.stdout, 'text reply\n  Content: Hi there\n')
      assert.match(quiet.stderr, /\nwxengine send: no message was sent through the API \(customer-service message, template message or subscription notice\)\n$/)

      const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir } })
      assert.ok(loaded.ok)
      const store = await openStore(loaded.value.store, project.dataDir, createLogger({ level: 'silent' }))
      try {
        for (const a of loaded.value.accounts) assert.equal(await store.tokens.get(a.appId), null, a.id)
      } finally {
        await store.close()
      }
    } finally {
      rmSync(path.join(project.dir, 'plugins', 'later'), { recursive: true })
      rmSync(path.join(project.dir, 'rules', 'later.yaml'))
      rmSync(path.join(project.dir, 'quick.config.ts'))
    }
  })

  test('a rule answering with a media file: --local uploads nothing (no quota spent, no call to the platform); the media_id the store has, else a placeholder and a note', async () => {
    const fake = await startFakeWeChatApi({ appId: 'wx1111111111111111', appSecret: 'local-secret' })
    mkdirSync(path.join(project.dir, 'rules', 'images'))
    const picture = Buffer.from('not really a png: nothing reads more than its size')
    writeFileSync(path.join(project.dir, 'rules', 'images', 'qr.png'), picture)
    writeFileSync(path.join(project.dir, 'rules', 'media.yaml'), 'rules:\n  - name: group\n    keywords: [group]\n    reply: {type: image, file: images/qr.png}\n')
    const env = { WECHAT_API_BASE: fake.baseUrl, WECHAT_APPSECRET: 'local-secret' }
    try {
      for (const wait of [[], ['--wait', '0.2']]) {
        const r = await project.run(['send', 'group', '--openid', 'u4', '--local', ...wait], { env })
        assert.equal(r.code, 0, r.stderr)
        assert.equal(r.stdout, 'image reply\n  Image:\n    MediaId: not-uploaded:images/qr.png\n', `${wait.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr, /^warning: rules\/media\.yaml:4:\d+: image file images\/qr\.png has no media_id for account "default" yet, and send --local uploads nothing: the reply carries a placeholder; the engine uploads the file when it starts \(or reloads\)$/m)
        // The other accounts' media (here "safe", which has no appSecret) are no concern of a message to "default".
        assert.doesNotMatch(r.stderr, /account "safe"/)
      }
      assert.deepEqual(fake.requests.map((q) => q.path), [], 'nothing asked of the platform')
      assert.equal(fake.uploads.length, 0)

      // Uploaded by a serving engine before: its media_id, from the project's store.
      const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir } })
      assert.ok(loaded.ok)
      const store = await openStore(loaded.value.store, project.dataDir, createLogger({ level: 'silent' }))
      try {
        const sha256 = createHash('sha256').update(picture).digest('hex')
        await store.kv.set('media', `wx1111111111111111:${sha256}`, { mediaId: 'stored-media-id', type: 'image', file: 'images/qr.png', uploadedAt: 1, sha256 })
      } finally {
        await store.close()
      }
      const known = await project.run(['send', 'group', '--openid', 'u4', '--local'], { env })
      assert.equal(known.code, 0, known.stderr)
      assert.equal(known.stdout, 'image reply\n  Image:\n    MediaId: stored-media-id\n')
      assert.doesNotMatch(known.stderr, /no media_id for account "default"/)
      assert.equal(fake.requests.length, 0)
    } finally {
      await fake.close()
      rmSync(path.join(project.dir, 'rules', 'images'), { recursive: true })
      rmSync(path.join(project.dir, 'rules', 'media.yaml'))
    }
  })

  test('usage errors exit 2 and say what to do', async () => {
    const cases: [string[], RegExp][] = [
      [['send', '--openid', 'u1', '--local'], /nothing to send: give the text/],
      [['send', 'hi', '--openid', 'u1', '--account', 'nope', '--local'], /no account "nope".*accounts: default, safe/],
      [['send', 'hi', '--openid', 'u1', '--field', 'NoEquals', '--local'], /--field takes Name=value/],
      [['send', '--openid', 'u1', '--key', 'K', '--local'], /--key is the EventKey of an event: add --event/],
      [['send', '--openid', 'u1', '--location', 'north', '--local'], /--location takes latitude,longitude/],
      [['send', 'hi', '--limit', '3'], /unknown option '--limit'/],
      [['send', 'hi', '--url', '127.0.0.1:8080'], /--url takes the engine's base URL, e.g. http:\/\/127.0.0.1:8080/],
      [['send', 'hi', '--url', 'http://127.0.0.1:8080', '--local'], /give one of them/],
      [['send', 'hi', '--port', '8081', '--local'], /--local runs the engine here, --port sends to one elsewhere/],
      [['send', 'hi', '--wait'], /--wait needs --local/],
      [['send', '--local', '--wait', 'hi'], /argument 'hi' is invalid\. a number of seconds, e\.g\. 30; the text goes before the options: wxengine send "hi" --local --wait/],
      [['send', 'hi', '--port', '8081', '--url', 'http://127.0.0.1:8080'], /--port is short for --url/],
      [['send', 'hi', '--port', 'eighty'], /port/],
      [['send', 'hi', '--url', 'http://127.0.0.1:8080/wechat/safe', '--account', 'default'], /--url is account "safe"'s URL, and --account says "default": give one of them/],
      [['send', 'hi', '--url', 'http://127.0.0.1:8080/wechat', '--account', 'safe'], /--url ends in \/wechat, the default account's URL \("default"\); account "safe" answers at http:\/\/127\.0\.0\.1:8080\/wechat\/safe/],
      [['send', 'hi', '--url', 'http://127.0.0.1:8080/wechat/nope'], /no account "nope".*accounts: default, safe/],
      [['send', 'hi', '--url', 'http://127.0.0.1:8080/wechat?signature=x'], /--url takes no query or fragment/],
    ]
    for (const [args, message] of cases) {
      const r = await project.run(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, message)
      assert.equal(r.stdout, '')
    }
  })

  test('an unknown account is worded as log words it, with the account it resembles (send said it its own way, without)', async () => {
    const typo = await project.run(['send', 'hi', '--account', 'sfae', '--local'])
    assert.equal(typo.code, 2)
    assert.equal(typo.stderr, 'wxengine send: no account "sfae" in the configuration (did you mean "safe"?); accounts: default, safe\n')
    const byUrl = await project.run(['send', 'hi', '--url', 'http://127.0.0.1:8080/wechat/nope'])
    assert.equal(byUrl.stderr, 'wxengine send: no account "nope" in the configuration; accounts: default, safe\n')
  })

  test('a broken config file exits 2 naming the problem', async () => {
    const r = await project.run(['send', 'hi', '--openid', 'u1', '--local'], { env: { PORT: 'eighty' } })
    assert.equal(r.code, 2)
    assert.match(r.stderr, /PORT: must be a whole number/)
  })
})

describe('wxengine send --url (to a running engine)', () => {
  let runtime: Runtime

  before(async () => {
    const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir + '-server' }, overrides: { port: 0, host: '127.0.0.1' } })
    assert.ok(loaded.ok)
    runtime = await startRuntime(loaded.value, { log: createLogger({ level: 'silent' }) })
  })
  after(() => runtime.close())

  test('plaintext account, over HTTP', async () => {
    const r = await project.run(['send', 'echo over http', '--openid', 'u1', '--url', runtime.url!])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'text reply\n  Content: over http\n')
  })

  test('--port: an engine on this machine on another port', async () => {
    const r = await project.run(['send', 'echo by port', '--openid', 'u1', '--port', new URL(runtime.url!).port])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'text reply\n  Content: by port\n')
  })

  test('safe-mode account, over HTTP', async () => {
    const r = await project.run(['send', 'echo secret', '--openid', 'u1', '--account', 'safe', '--url', runtime.url!])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'text reply (encrypted, decrypted and verified)\n  Content: secret\n')
  })

  test('--url as typed into the console: /wechat is the default account, /wechat/<id> names the account (it was taken for a base: /wechat/wechat/default, a 404)', async () => {
    const plain = await project.run(['send', 'echo console url', '--openid', 'u1', '--url', `${runtime.url!}/wechat/`])
    assert.equal(plain.code, 0, plain.stderr)
    assert.equal(plain.stdout, 'text reply\n  Content: console url\n')
    const safe = await project.run(['send', 'echo named', '--openid', 'u1', '--url', `${runtime.url!}/wechat/safe`])
    assert.equal(safe.code, 0, safe.stderr)
    assert.equal(safe.stdout, 'text reply (encrypted, decrypted and verified)\n  Content: named\n')
  })

  test('a push signed with the wrong token is refused: exit 1 with the HTTP status, and where the token send used came from', async () => {
    const r = await project.run(['send', 'hi', '--openid', 'u1', '--url', runtime.url!], { env: { WECHAT_TOKEN: 'nottheservertoken' } })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /the engine answered HTTP 401: BAD_SIGNATURE; send signed it with account "default"'s token from WECHAT_TOKEN in this environment, and the engine has another: run send with the WECHAT_TOKEN the engine was started with/)
  })

  test('an engine started with WECHAT_TOKEN, and send run without it: the 401 says so (it was a bare "HTTP 401: BAD_SIGNATURE"; an operator walkthrough of the binary)', async () => {
    const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir + '-envtoken', WECHAT_TOKEN: 'fromtheenvironment' }, overrides: { port: 0, host: '127.0.0.1' } })
    assert.ok(loaded.ok)
    const other = await startRuntime(loaded.value, { log: createLogger({ level: 'silent' }) })
    try {
      const r = await project.run(['send', 'hi', '--openid', 'u1', '--url', other.url!])
      assert.equal(r.code, 1)
      assert.equal(r.stderr, 'wxengine send: the engine answered HTTP 401: BAD_SIGNATURE; send signed it with account "default"\'s token from engine.config.ts, with no WECHAT_TOKEN in this environment, and the engine has another: run send with the WECHAT_TOKEN the engine was started with (or the same engine.config.ts)\n')
      const same = await project.run(['send', 'echo same token', '--openid', 'u1', '--url', other.url!], { env: { WECHAT_TOKEN: 'fromtheenvironment' } })
      assert.equal(same.stdout, 'text reply\n  Content: same token\n', same.stderr)
    } finally {
      await other.close()
    }
  })

  test('--local beside an engine serving from the same data directory: refused, exit 1 (its dialogue would be lost to the server; an operator review)', async () => {
    const r = await project.run(['send', 'echo hi', '--openid', 'u1', '--local'], { env: { DATA_DIR: project.dataDir + '-server' } })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /an engine is serving from .*-server; send to it without --local, adding --port <its port> if it was started on another than \d+ \(start --port, dev --port\)/)
    assert.equal(r.stdout, '')
  })

  test('an engine on a port that fetch refuses (6666, 10080: ports browsers block) is reached too: it was "cannot reach ... (bad port). Is the engine running?" while it ran', async () => {
    let other: Runtime | undefined
    // `start --port 6666` serves there; take the first such port free on this machine.
    for (const port of FETCH_BLOCKED_PORTS) {
      const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir + '-blocked' }, overrides: { port, host: '127.0.0.1' } })
      assert.ok(loaded.ok)
      try {
        other = await startRuntime(loaded.value, { log: createLogger({ level: 'silent' }) })
        break
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e
      }
    }
    assert.ok(other, 'one of the ports is free')
    try {
      const r = await project.run(['send', 'echo blocked port', '--openid', 'u1', '--port', new URL(other.url!).port])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'text reply\n  Content: blocked port\n')
    } finally {
      await other.close()
    }
  })

  test('HOST as the engine has it (one environment file for both): a wildcard HOST is reached on the loopback', async () => {
    // Tests touch 127.0.0.1 only: where other HOSTs lead is send-target.test.ts's (reachableHost).
    for (const HOST of ['0.0.0.0', '::', '127.0.0.1']) {
      const r = await project.run(['send', 'echo loopback', '--openid', 'u1', '--port', new URL(runtime.url!).port], { env: { HOST } })
      assert.equal(r.code, 0, `${HOST}: ${r.stderr}`)
      assert.equal(r.stdout, 'text reply\n  Content: loopback\n')
    }
  })

  test('nothing listening: exit 1 and a hint', async () => {
    const port = await freePort()
    const r = await project.run(['send', 'hi', '--openid', 'u1', '--url', `http://127.0.0.1:${port}`])
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. Is the engine running`))
    // `dev --port 3000`, as cli.md shows it, is not on the configured port: --port is named (a newcomer's review).
    assert.match(r.stderr, /Use --port for one started on another port \(start --port, dev --port\), --url for another address/)
  })
})

/** Ports on the Fetch standard's "bad port" list, which node's fetch refuses and a server may listen on. */
const FETCH_BLOCKED_PORTS = [6666, 6667, 6668, 10080, 6000]

/** A port nothing listens on: bound by us, then released. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
