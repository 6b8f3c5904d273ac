import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { createLogger } from '../../core/log/logger.ts'
import { startRuntime } from '../../core/runtime.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { makeProject, type Project } from './cli-harness.ts'

// A sender id is text the client chose: anyone who saw one signed plaintext URL can push any FromUserName
// (normalize-message.ts, MAX_ID_LENGTH). `wxengine log` prints to the operator's terminal, where an escape
// sequence is a command (clear the screen, retitle the window, hide text) and a newline forges a row.
const EVIL = 'eve\x1b[2J\x1b]0;owned\x07\nforged row\u009b31m'

let project: Project
before(async () => {
  project = makeProject()
  const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir } })
  assert.ok(loaded.ok)
  const runtime = await startRuntime(loaded.value, { listen: false, log: createLogger({ level: 'silent' }) })
  try {
    // The raw bytes as a client sends them (the simulator's CDATA leaves out what XML does not allow; the
    // engine's reader takes them). A plaintext push's signature covers the query only, not the body.
    const req = createWeChatSimulator({ account: loaded.value.accounts[0]! }).request(push.text('PLACEHOLDER', 'hello'))
    const body = req.body.replace('PLACEHOLDER', EVIL)
    assert.notEqual(body, req.body)
    const res = await runtime.engine.handle({ method: 'POST', accountId: 'default', query: req.query, body })
    assert.equal(res.status, 200)
  } finally {
    await runtime.close()
  }
})
after(() => project.remove())

test('log: control characters in what a client chose are shown escaped, never written to the terminal', async () => {
  const r = await project.run(['log'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\n')
  assert.equal(lines.length, 1, r.stdout)
  assert.doesNotMatch(r.stdout.trimEnd(), /[\x00-\x08\x0b-\x1f\x7f-\x9f]/)
  assert.ok(lines[0]!.includes('eve\\u001b[2J\\u001b]0;owned\\u0007\\nforged row\\u009b31m'), lines[0])
  // --json was already escaped by JSON itself, and keeps the id as it is.
  const json = await project.run(['log', '--json'])
  assert.equal((JSON.parse(json.stdout) as { openId: string }).openId, EVIL)
})
