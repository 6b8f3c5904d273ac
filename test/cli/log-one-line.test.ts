/**
 * `wxengine log` prints one line per entry. An entry's error is a plugin's own words (the message it threw),
 * which may hold a newline or a terminal's control characters: printed bare, one entry became two lines
 * (the second read as a message of its own by `| grep`, `| wc -l`) and an escape sequence reached the
 * operator's terminal. Such an error is shown JSON-quoted, as the summary and the keyword are.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { SQLITE_FILE_NAME } from '../../core/store/open-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import type { MessageLogEntry } from '../../core/store/store.ts'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project
const THROWN = 'weather: PLUGIN_ERROR: upstream said\nHTTP 502\u001b[2J\u009b2J'
const PLAIN = 'weather: PLUGIN_TIMEOUT: no answer in 5000 ms'

before(async () => {
  project = makeProject()
  const store = openSqliteStore({ file: path.join(project.dataDir, SQLITE_FILE_NAME) })
  try {
    const entry: MessageLogEntry = { at: Date.now(), account: 'default', openId: 'alice', kind: 'text', msgKey: 'k1', handledBy: 'none', summary: 'weather', latencyMs: 3, outcome: 'failed', error: THROWN }
    store.log.append(entry)
    store.log.append({ ...entry, at: entry.at + 1, msgKey: 'k2', error: undefined, outcome: 'no_reply' })
    store.log.append({ ...entry, at: entry.at + 2, msgKey: 'k3', error: PLAIN })
    await store.log.flush()
  } finally {
    await store.close()
  }
})
after(() => project.remove())

test('log: an error with a newline and control characters stays on its entry\'s one line, quoted', async () => {
  const r = await project.run(['log'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.length, 3, r.stdout)
  assert.doesNotMatch(r.stdout, /[\u001b\u009b]/)
  assert.ok(lines[0].endsWith(`  ["weather: PLUGIN_ERROR: upstream said\\nHTTP 502\\u001b[2J\\u009b2J"]`), lines[0])
  assert.match(lines[1], /-> none: no_reply in 3 ms$/)
  // Plain text is shown as written, as before.
  assert.ok(lines[2].endsWith(`  [${PLAIN}]`), lines[2])
})

test('log --json: the error as written', async () => {
  const r = await project.run(['log', '--json'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal((JSON.parse(r.stdout.trim().split('\n')[0]) as MessageLogEntry).error, THROWN)
})
