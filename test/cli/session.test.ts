/**
 * `wxengine session`: an operator lists the users in a dialogue and ends one's, beside a running engine on
 * the project's SQLite file; the engine's next message from that user is routed afresh, not to the plugin.
 * (The same command on Redis, under the user's lock: test/fleet/session-end.test.ts.)
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { createLogger, createMemoryLogger, type Logger } from '../../core/log/logger.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project

/** A plugin of the project, and the rule that starts it on `keyword`. */
function addPlugin(name: string, keyword: string, source: string): void {
  mkdirSync(path.join(project.dir, 'plugins', name))
  writeFileSync(path.join(project.dir, 'plugins', name, 'index.ts'), source)
  writeFileSync(path.join(project.dir, 'rules', `${name}.yaml`), `rules:\n  - { name: ${name}, keywords: [${keyword}], plugin: ${name} }\n`)
}

before(() => {
  project = makeProject()
  addPlugin(
    'quiz',
    'quiz',
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin<Record<string, never>, { asked: string }>({
  name: 'quiz',
  handle(ctx) {
    if (!ctx.session.active) {
      ctx.session.begin(600, { asked: 'capital of France' })
      return 'What is the capital of France?'
    }
    ctx.session.end()
    return ctx.message.kind === 'text' && ctx.message.content === 'Paris' ? 'Right!' : 'No: Paris.'
  },
})
`,
  )
  // A dialogue whose plugin takes a moment to answer: its session can be ended while it does.
  addPlugin(
    'slow-quiz',
    'slowquiz',
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin<Record<string, never>, { step: number }>({
  name: 'slow-quiz',
  async handle(ctx) {
    if (!ctx.session.active) {
      ctx.session.begin(600, { step: 1 })
      return 'Question 1?'
    }
    await new Promise((resolve) => setTimeout(resolve, 1500))
    ctx.session.update({ step: (ctx.session.state?.step ?? 0) + 1 })
    return 'Question 2?'
  },
})
`,
  )
})
after(() => project.remove())

const run = (...args: string[]) => project.run(['session', ...args])

/** The project's engine in this process (on its SQLite file), and a user's text to it, answered. */
async function startEngine(log: Logger): Promise<{ runtime: Runtime; say: (openId: string, content: string) => Promise<string> }> {
  const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir } })
  assert.ok(loaded.ok)
  const runtime = await startRuntime(loaded.value, { listen: false, log })
  const sim = createWeChatSimulator({ account: loaded.value.accounts.find((a) => a.id === 'default')! })
  const say = async (openId: string, content: string): Promise<string> => {
    const req = sim.request(push.text(openId, content))
    const res = await runtime.engine.handle({ method: 'POST', accountId: 'default', query: req.query, body: req.body })
    assert.equal(res.status, 200)
    return res.body
  }
  return { runtime, say }
}

test('before the engine ever ran: no sessions, exit 0', async () => {
  const list = await run('list')
  assert.equal(list.code, 0, list.stderr)
  assert.match(list.stderr, /^no sessions yet: .*wxengine\.db does not exist/)
})

test('list shows the users in a dialogue; end ends one beside the running engine, whose next message from them is routed afresh', async () => {
  const { runtime, say } = await startEngine(createLogger({ level: 'silent' }))
  try {
    assert.match(await say('o-ann', 'quiz'), /capital of France/)
    assert.match(await say('o-bob', 'quiz'), /capital of France/)

    const list = await run('list')
    assert.equal(list.code, 0, list.stderr)
    const lines = list.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/))
    assert.deepEqual(lines[0], ['ACCOUNT', 'OPENID', 'PLUGIN', 'ENDS (UTC)', 'STATE'])
    assert.deepEqual(lines.slice(1).map((r) => [r[0], r[1], r[2], r[4]]).sort(), [
      ['default', 'o-ann', 'quiz', '{"asked":"capital of France"}'],
      ['default', 'o-bob', 'quiz', '{"asked":"capital of France"}'],
    ])
    assert.match(lines[1]![3]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in (9m 5\d|10m 0)s\)$/)
    const json = await run('list', '--json', '-n', '1')
    const one = JSON.parse(json.stdout) as Array<{ account: string; openId: string; plugin: string; state: unknown; expiresAt: number }>
    assert.equal(one.length, 1)
    assert.deepEqual({ ...one[0], openId: 'o-x', expiresAt: 0 }, { account: 'default', openId: 'o-x', plugin: 'quiz', state: { asked: 'capital of France' }, expiresAt: 0 })
    assert.equal(json.stderr, 'more sessions than the 1 shown (the soonest to end): -n sets how many\n')
    const safe = await run('list', '--account', 'safe')
    assert.deepEqual([safe.code, safe.stdout, safe.stderr], [0, '', 'no sessions in account safe\n'])
    const echo = await run('list', '--plugin', 'echo')
    assert.deepEqual([echo.code, echo.stdout, echo.stderr], [0, '', 'no sessions with plugin echo\n'])
    const misspelt = await run('list', '--plugin', 'qiuz')
    assert.deepEqual([misspelt.code, misspelt.stderr], [0, 'note: plugin "qiuz" is not in plugins (did you mean "quiz"?)\nno sessions with plugin qiuz\n'])
    const byPlugin = await run('list', '-p', 'quiz', '--json')
    assert.equal((JSON.parse(byPlugin.stdout) as unknown[]).length, 2)

    const ended = await run('end', 'o-ann')
    assert.deepEqual([ended.code, ended.stderr], [0, 'ended the session of o-ann (account default) with plugin quiz: their next message is routed afresh\n'])
    // The engine read Ann's session at her last message: it must not answer "Paris" from a remembered one.
    assert.match(await say('o-ann', 'Paris'), /Sorry, I did not understand/)
    assert.match(await say('o-bob', 'Paris'), /Right!/)
    const again = await run('end', 'o-ann')
    assert.deepEqual([again.code, again.stderr], [0, 'o-ann (account default) has no session: nothing ended\n'])
    const none = await run('list')
    assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', 'no sessions\n'])

    // Every session of a plugin at once: what an operator does after changing its questions.
    for (const user of ['o-cat', 'o-dan']) assert.match(await say(user, 'quiz'), /capital of France/)
    const all = await run('end', '--plugin', 'quiz')
    assert.deepEqual([all.code, all.stderr], [0, "ended 2 sessions with plugin quiz: their users' next messages are routed afresh\n"])
    for (const user of ['o-cat', 'o-dan']) assert.match(await say(user, 'Paris'), /Sorry, I did not understand/)
    const nothing = await run('end', '-p', 'quiz', '--account', 'default')
    assert.deepEqual([nothing.code, nothing.stderr], [0, 'no sessions with plugin quiz in account default: nothing ended\n'])
  } finally {
    await runtime.close()
  }
})

test("a session ended while its plugin answers stays ended: the plugin's update of it is not saved, and a line says so", async () => {
  const { logger, lines } = createMemoryLogger('info')
  const { runtime, say } = await startEngine(logger)
  // What `session end` does beside the engine: a delete through its own connection to the project's file.
  const operator = openSqliteStore({ file: path.join(project.dataDir, 'wxengine.db') })
  try {
    assert.match(await say('o-eve', 'slowquiz'), /Question 1/)
    assert.match(await say('o-fay', 'slowquiz'), /Question 1/)
    const answering = say('o-eve', 'Lyon')
    // The session was read as the message was routed, and the plugin is in its 1.5 s wait: ended now, before its update.
    await new Promise((resolve) => setTimeout(resolve, 400))
    await operator.sessions.delete('default', 'o-eve')
    assert.match(await answering, /Question 2/, 'the reply still goes out')
    assert.equal(await operator.sessions.get('default', 'o-eve'), null, 'put made the ended session again, with step 2')
    const line = lines.find((l) => String(l.msg).startsWith('session of plugin slow-quiz ended while it answered'))
    assert.deepEqual([line?.plugin, line?.account, line?.openId], ['slow-quiz', 'default', 'o-eve'])
    // A dialogue nobody ended goes on as before.
    assert.match(await say('o-fay', 'Lyon'), /Question 2/)
    assert.deepEqual((await operator.sessions.get('default', 'o-fay'))?.state, { step: 2 })
  } finally {
    await operator.close()
    await runtime.close()
  }
})

test('mistakes: no OpenID, both an OpenID and --plugin, an account that is not configured', async () => {
  const empty = await run('end', '')
  assert.equal(empty.code, 2)
  assert.match(empty.stderr, /the user's OpenID is needed, not an empty text/)
  const neither = await run('end')
  assert.equal(neither.code, 2)
  assert.match(neither.stderr, /the user's OpenID is needed, or --plugin <name> for every session of a plugin/)
  const both = await run('end', 'o-ann', '--plugin', 'quiz')
  assert.equal(both.code, 2)
  assert.match(both.stderr, /a user's OpenID or --plugin, not both/)
  const unknown = await run('end', 'o-ann', '--account', 'saef')
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /wxengine session end: .*saef.*did you mean "safe"/)
})
